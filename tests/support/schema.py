"""The database schema against the models, as Alembic compares them."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from watcher.store import Base


def schema_diffs(engine: Engine) -> list[Any]:
    """Alembic's differences between the database and the models (types and defaults too)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))
