"""Unknown identities: sightings keep an embedding and a crop, grouped into unknown-N people.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create unknown_identities and event_identities; give sightings their three columns."""
    op.create_table(
        "unknown_identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sightings", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("events", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.Column("crop_path", sa.String(length=1024), nullable=True),
        sa.Column("crop_px", sa.Integer(), nullable=True),
        sa.Column("named_as", sa.String(length=255), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_identities")),
        sa.UniqueConstraint("label", name=op.f("uq_unknown_identities_label")),
        sqlite_autoincrement=True,  # ids (and so labels) are never reused
    )
    op.create_index(
        op.f("ix_unknown_identities_last_seen"), "unknown_identities", ["last_seen"], unique=False
    )
    op.create_table(
        "event_identities",
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_identities_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["unknown_identities.id"],
            name=op.f("fk_event_identities_identity_id_unknown_identities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "identity_id", name=op.f("pk_event_identities")),
    )
    op.create_index(
        op.f("ix_event_identities_identity_id"), "event_identities", ["identity_id"], unique=False
    )
    # Old rows keep NULLs: they predate embeddings and crops.
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("embedding", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("crop_path", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("identity_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_sightings_identity_id"), ["identity_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_sightings_identity_id_unknown_identities"),
            "unknown_identities",
            ["identity_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Drop the sightings columns, then both tables (embeddings and groupings are lost)."""
    with op.batch_alter_table("sightings") as batch:
        batch.drop_constraint(
            batch.f("fk_sightings_identity_id_unknown_identities"), type_="foreignkey"
        )
        batch.drop_index(batch.f("ix_sightings_identity_id"))
        batch.drop_column("identity_id")
        batch.drop_column("crop_path")
        batch.drop_column("embedding")
    op.drop_index(op.f("ix_event_identities_identity_id"), table_name="event_identities")
    op.drop_table("event_identities")
    op.drop_index(op.f("ix_unknown_identities_last_seen"), table_name="unknown_identities")
    op.drop_table("unknown_identities")
