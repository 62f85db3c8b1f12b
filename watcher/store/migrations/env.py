"""Alembic environment: migrate the connection handed over by watcher.store.schema."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from watcher.store.tables import metadata


def _configure(connection: Connection) -> None:
    """Bind the migration context to a connection and watcher's table metadata."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Run online: on watcher's own connection, else on `sqlalchemy.url` (alembic CLI)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("use watcher.store.upgrade(engine), or set sqlalchemy.url")
    from watcher.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("watcher migrations run online only")
run()
