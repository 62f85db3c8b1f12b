"""events.clip_started_at: wall time of the clip's first frame (pre-roll included).

Crash recovery adds the clip's length to it to get the time of its last frame.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable column (old rows keep NULL: recovery then uses started_at)."""
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("clip_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("events") as batch:
        batch.drop_column("clip_started_at")
