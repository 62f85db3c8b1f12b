"""Engine set-up, schema creation and read queries returning plain records.

The queries are SQLAlchemy Core over watcher.store.tables: the readers (`watcher
events list`, the review page) never load the ORM, a third of their start-up.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, and_, create_engine, event, or_, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool, StaticPool

from watcher.store.records import EventIdentityRecord, EventRecord, SightingRecord
from watcher.store.schema import upgrade
from watcher.store.tables import event_identities, events, sightings, unknown_identities

if TYPE_CHECKING:
    from sqlalchemy import Row

    AnyRow = Row[*tuple[Any, ...]]  # a row of any width (SQLAlchemy 2.1 types each)

log = logging.getLogger("watcher.store")

# Run on every new SQLite connection. busy_timeout comes first so that even the
# switch to WAL waits for a lock instead of failing. WAL lets readers (the CLI,
# `watcher web`) read while the daemon's writer writes; NORMAL is durable across
# app crashes (only a power cut can lose the last commits) and far cheaper than FULL.
_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def _sqlite_memory(url: URL) -> bool:
    """Tell whether a SQLite URL names an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    return str(url.query.get("mode", "")) == "memory" or "mode=memory" in database


def _sqlite_file(url: URL) -> Path:
    """Return the file path of an on-disk SQLite URL (plain or `file:` URI form)."""
    database = url.database or ""
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def sqlite_file(engine: Engine) -> Path | None:
    """The absolute path of an on-disk SQLite database, else None (a server, or memory)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or _sqlite_memory(url):
        return None
    return Path(os.path.abspath(_sqlite_file(url).expanduser()))


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Apply the connection PRAGMAs (they are per connection, not stored in the file)."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def make_engine(url: str, *, keep_connections: bool = True) -> Engine:
    """Create an engine for any SQLAlchemy URL, tuned for SQLite files when it is one.

    keep_connections=False (the review page): an SQLite file's connection is closed when
    it goes back to the pool, and its page cache (up to 2 MB) with it.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Server connections die (restarts, idle timeouts): test them before use.
        engine = create_engine(parsed, pool_pre_ping=True)
    elif _sqlite_memory(parsed):
        # One shared connection, or every thread would get its own empty database.
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    else:
        _sqlite_file(parsed).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # The writer thread and readers use connections made on other threads.
        # A reader of another process's database gains little from keeping its
        # connection: in WAL mode SQLite drops a connection's whole page cache whenever
        # another connection (the daemon) wrote since its last read, and opening one
        # costs well under a millisecond.
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False},
            **({} if keep_connections else {"poolclass": NullPool}),
        )
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    # Never log a password: render the URL with it masked.
    log.debug("store: database %s", parsed.render_as_string(hide_password=True))
    return engine


def older_than(at: datetime, event_id: str) -> ColumnElement[bool]:
    """Events that come after (at, event_id) newest first: started earlier, or then with a
    smaller id (keyset pagination's condition, through the started_at index)."""
    e = events.c
    return or_(e.started_at < at, and_(e.started_at == at, e.id < event_id))


def newer_than(at: datetime, event_id: str) -> ColumnElement[bool]:
    """Events that come before (at, event_id) newest first: started later, or then with a
    greater id."""
    e = events.c
    return or_(e.started_at > at, and_(e.started_at == at, e.id > event_id))


def init_db(engine: Engine) -> None:
    """Bring the schema up to date with the shipped migrations (see schema.upgrade)."""
    upgrade(engine)


def _sighting_record(row: AnyRow) -> SightingRecord:
    return SightingRecord(
        at=row.at,
        offset_s=row.offset_s,
        box=(row.top, row.right, row.bottom, row.left),
        name=row.name,
        distance=row.distance,
        note=row.note,
    )


def _event_record(row: AnyRow, sightings: tuple[SightingRecord, ...] | None) -> EventRecord:
    return EventRecord(
        id=row.id,
        camera=row.camera,
        started_at=row.started_at,
        ended_at=row.ended_at,
        clip_path=row.clip_path,
        snapshot_path=row.snapshot_path,
        face_path=row.face_path,
        faces=row.faces,
        closest_distance=row.closest_distance,
        status=row.status,
        host=row.host,
        created_at=row.created_at,
        sightings=sightings,
        clip_started_at=row.clip_started_at,
        decision=row.decision,
        reviewed_at=row.reviewed_at,
    )


def _require_aware(name: str, value: datetime) -> None:
    """Refuse a naive datetime up front, with a clear message."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def list_events(
    engine: Engine,
    camera: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    *,
    until: datetime | None = None,
    before: tuple[datetime, str] | None = None,
    reviewed: bool | None = None,
    identity: str | None = None,
) -> list[EventRecord]:
    """Return events newest first, optionally of one camera, started at or after `since`.

    `until`: started before it. `before`: the (started_at, id) of the last event of the
    previous page, so that a page is found through the started_at index however deep
    it is (keyset pagination: no OFFSET scan, no row skipped or repeated as events come).
    `reviewed`: only the events marked reviewed (True) or not (False). `identity`: only
    the events that saw this unknown identity (its label, `unknown-N`).
    """
    e = events.c
    query = select(events).order_by(e.started_at.desc(), e.id.desc())
    if camera is not None:
        query = query.where(e.camera == camera)
    if since is not None:
        _require_aware("since", since)
        query = query.where(e.started_at >= since)
    if until is not None:
        _require_aware("until", until)
        query = query.where(e.started_at < until)
    if identity is not None:
        query = query.where(
            e.id.in_(
                select(event_identities.c.event_id)
                .join(unknown_identities, unknown_identities.c.id == event_identities.c.identity_id)
                .where(unknown_identities.c.label == identity)
            )
        )
    if reviewed is not None:
        query = query.where(e.reviewed_at.is_not(None) if reviewed else e.reviewed_at.is_(None))
    if before is not None:
        at, event_id = before
        _require_aware("before", at)
        query = query.where(older_than(at, event_id))
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [_event_record(row, None) for row in conn.execute(query)]


def get_event(engine: Engine, event_id: str) -> EventRecord | None:
    """Return one event with its sightings (in time order), or None if there is none."""
    s = sightings.c
    with engine.connect() as conn:
        row = conn.execute(select(events).where(events.c.id == event_id)).first()
        if row is None:
            return None
        # Time order, ties by id: the order the writer's ORM relationship loads them in.
        looks = conn.execute(
            select(s.at, s.offset_s, s.top, s.right, s.bottom, s.left, s.name, s.distance, s.note)
            .where(s.event_id == event_id)
            .order_by(s.at, s.id)
        )
        return _event_record(row, tuple(_sighting_record(look) for look in looks))


def set_reviewed(engine: Engine, event_id: str, reviewed: bool) -> bool:
    """Mark an event reviewed (now) or not; False when there is no such event.

    The review page's one write besides deleting: a person's mark, never the
    daemon's, so it does not go through the daemon's writer thread.
    """
    with engine.begin() as conn:
        done = conn.execute(
            update(events)
            .where(events.c.id == event_id)
            .values(reviewed_at=datetime.now(UTC) if reviewed else None)
        )
        return done.rowcount > 0


def identities_of(engine: Engine, event_ids: list[str]) -> dict[str, list[EventIdentityRecord]]:
    """The unknown identities each of these events saw (one query, for a page of events)."""
    if not event_ids:
        return {}
    u = unknown_identities.c
    query = (
        select(event_identities.c.event_id, u.label, u.events, u.named_as)
        .join(unknown_identities, u.id == event_identities.c.identity_id)
        .where(event_identities.c.event_id.in_(event_ids))
        .order_by(u.id)
    )
    out: dict[str, list[EventIdentityRecord]] = {}
    with engine.connect() as conn:
        for event_id, label, visits, named_as in conn.execute(query):
            out.setdefault(event_id, []).append(EventIdentityRecord(label, visits, named_as))
    return out
