"""events.decision and sightings.note: why a face was judged a stranger, look by look.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two nullable columns (older rows keep NULL: no explanation was kept)."""
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("decision", sa.String(length=512), nullable=True))
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("note", sa.String(length=255), nullable=True))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("sightings") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("decision")
