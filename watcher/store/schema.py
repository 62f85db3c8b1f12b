"""Schema migrations: Alembic configured in code, its scripts shipped in the package.

Alembic is imported only when there is something to migrate: a database already at
the shipped head is recognised with one query, which spares every start about 0.1
CPU-s of imports and script parsing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("watcher.store")

MIGRATIONS_DIR: Final = Path(__file__).resolve().with_name("migrations")
# The revision that equals the schema the old `create_all` made.
BASELINE_REVISION: Final = "0001"
VERSION_TABLE: Final = "alembic_version"
# The newest shipped revision; a test holds it equal to the scripts' head.
HEAD_REVISION: Final = "0006"
# Hosts starting together on one PostgreSQL server migrate one after the other.
_PG_LOCK_KEY: Final = 0x7761_7463_6865_72  # "watcher"
# Alembic's `context` and `op` are module globals: one migration per process at a time.
_IN_PROCESS = threading.Lock()


class SchemaError(RuntimeError):
    """The database cannot be migrated (e.g. it is newer than this watcher); one line."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config without alembic.ini: the shipped scripts, and `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the shipped scripts know."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    revisions = _recorded_revisions(engine)
    if not revisions:
        return None
    if len(revisions) > 1:
        raise SchemaError(f"the database records several schema revisions: {', '.join(revisions)}")
    return revisions[0]


@contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    """On SQLite, suspend foreign keys: batch migrations copy tables, which would cascade."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def _check_known(revision: str | None, head: str) -> None:
    """Refuse a database migrated by a newer watcher: its revision is not shipped here."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if revision is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        raise SchemaError(
            f"database schema is at revision {revision}, unknown to this watcher "
            f"(newest known: {head}); upgrade watcher"
        ) from None


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Keep Alembic's per-step INFO lines out of the daemon's log; ours sums them up."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _lock(conn: Connection) -> None:
    """On PostgreSQL, wait for other hosts' migrations (held until the transaction ends)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _recorded_revisions(engine: Engine) -> list[str] | None:
    """The revisions the version table records; None when there is no such table."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
        return [str(r) for r in rows.scalars()]


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision and return it.

    A database made by the old `create_all` (tables, no version table) is first
    stamped with the baseline revision, so its data is kept.
    """
    if _recorded_revisions(engine) == [HEAD_REVISION]:
        return HEAD_REVISION  # the usual start: nothing to migrate, no Alembic to load
    from alembic import command
    from alembic.migration import MigrationContext

    head = head_revision()
    with _IN_PROCESS, _quiet_alembic(), engine.connect() as conn, _foreign_keys_off(conn):
        with conn.begin():
            _lock(conn)
            tables = set(inspect(conn).get_table_names())
            config = alembic_config(conn)
            if "events" in tables and VERSION_TABLE not in tables:
                log.info("store: database predates migrations, stamping %s", BASELINE_REVISION)
                command.stamp(config, BASELINE_REVISION)
            before = MigrationContext.configure(conn).get_current_revision()
            if before != head:
                _check_known(before, head)
                command.upgrade(config, "head")
        if before != head:
            log.info("store: database schema upgraded from %s to %s", before or "empty", head)
    return head


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (what newer revisions added is dropped)."""
    from alembic import command

    with _IN_PROCESS, _quiet_alembic(), engine.connect() as conn, _foreign_keys_off(conn):
        with conn.begin():
            _lock(conn)
            command.downgrade(alembic_config(conn), revision)
        log.info("store: database schema downgraded to %s", revision)
