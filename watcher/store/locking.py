"""The identities' write lock, apart from the grouping (and its NumPy): readers need it too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PG_LOCK_KEY: Final = 0x7761_7463_6869_64  # "watchid": other hosts grouping into one database


def lock_identities(db: Connection | Session) -> None:
    """Wait for other writers of identities; held until the transaction ends.

    Call it before reading identities: what is read then stays true until commit.
    `db`: a Core connection in a transaction (the page's changes) or the writer's ORM
    session (its type is named for the checker only: readers must not import the ORM).
    """
    bind = db if isinstance(db, Connection) else db.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    elif dialect == "sqlite":
        # pysqlite opens a transaction only at the first write, so reads before it see
        # no fixed state: a write that changes nothing takes the database's write lock.
        db.execute(text("UPDATE unknown_identities SET id = id WHERE 0 = 1"))
