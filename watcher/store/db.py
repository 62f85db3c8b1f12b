"""Engine set-up, schema creation and read queries returning plain records."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, create_engine, event, or_, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.pool import StaticPool

from watcher.store.models import Event, EventIdentity, Sighting, UnknownIdentity
from watcher.store.schema import upgrade

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


def make_engine(url: str) -> Engine:
    """Create an engine for any SQLAlchemy URL, tuned for SQLite files when it is one."""
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
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    # Never log a password: render the URL with it masked.
    log.debug("store: database %s", parsed.render_as_string(hide_password=True))
    return engine


def init_db(engine: Engine) -> None:
    """Bring the schema up to date with the shipped migrations (see schema.upgrade)."""
    upgrade(engine)


def _iso(value: datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 with its zone, or None."""
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class SightingRecord:
    """One stored sighting, as plain data."""

    at: datetime
    offset_s: float
    box: tuple[int, int, int, int]  # top, right, bottom, left
    name: str | None
    distance: float | None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (times as ISO 8601 strings with zone)."""
        return {
            "at": _iso(self.at),
            "offset_s": self.offset_s,
            "name": self.name,
            "distance": self.distance,
            "box": list(self.box),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event, as plain data detached from any session."""

    id: str
    camera: str
    started_at: datetime
    ended_at: datetime | None
    clip_path: str | None
    snapshot_path: str | None
    face_path: str | None
    faces: int
    closest_distance: float | None
    status: str
    host: str | None
    created_at: datetime
    # None when not loaded (list_events); a tuple, maybe empty, from get_event.
    sightings: tuple[SightingRecord, ...] | None = None
    # Wall time of the clip's first frame, when the pipeline recorded it.
    clip_started_at: datetime | None = None
    decision: str | None = None  # why the face was judged a stranger
    reviewed_at: datetime | None = None  # when a person marked it reviewed

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict; `sightings` is present only when they were loaded."""
        out: dict[str, Any] = {
            "id": self.id,
            "camera": self.camera,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "clip": self.clip_path,
            "snapshot": self.snapshot_path,
            "face": self.face_path,
            "faces": self.faces,
            "closest_distance": self.closest_distance,
            "status": self.status,
            "decision": self.decision,
        }
        if self.sightings is not None:
            out["sightings"] = [s.to_json() for s in self.sightings]
        return out


def _sighting_record(row: Sighting) -> SightingRecord:
    return SightingRecord(
        at=row.at,
        offset_s=row.offset_s,
        box=(row.top, row.right, row.bottom, row.left),
        name=row.name,
        distance=row.distance,
        note=row.note,
    )


def _event_record(row: Event, *, with_sightings: bool) -> EventRecord:
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
        sightings=tuple(_sighting_record(s) for s in row.sightings) if with_sightings else None,
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
    query = select(Event).order_by(Event.started_at.desc(), Event.id.desc())
    if camera is not None:
        query = query.where(Event.camera == camera)
    if since is not None:
        _require_aware("since", since)
        query = query.where(Event.started_at >= since)
    if until is not None:
        _require_aware("until", until)
        query = query.where(Event.started_at < until)
    if identity is not None:
        query = query.where(
            Event.id.in_(
                select(EventIdentity.event_id)
                .join(UnknownIdentity, UnknownIdentity.id == EventIdentity.identity_id)
                .where(UnknownIdentity.label == identity)
            )
        )
    if reviewed is not None:
        query = query.where(
            Event.reviewed_at.is_not(None) if reviewed else Event.reviewed_at.is_(None)
        )
    if before is not None:
        at, event_id = before
        _require_aware("before", at)
        query = query.where(
            or_(Event.started_at < at, and_(Event.started_at == at, Event.id < event_id))
        )
    if limit is not None:
        query = query.limit(limit)
    with Session(engine) as session:
        return [_event_record(row, with_sightings=False) for row in session.scalars(query)]


def get_event(engine: Engine, event_id: str) -> EventRecord | None:
    """Return one event with its sightings (in time order), or None if there is none."""
    with Session(engine) as session:
        row = session.get(Event, event_id, options=[selectinload(Event.sightings)])
        return None if row is None else _event_record(row, with_sightings=True)


def set_reviewed(engine: Engine, event_id: str, reviewed: bool) -> bool:
    """Mark an event reviewed (now) or not; False when there is no such event.

    The review page's one write besides deleting: a person's mark, never the
    daemon's, so it does not go through the daemon's writer thread.
    """
    with Session(engine) as session, session.begin():
        row = session.get(Event, event_id)
        if row is None:
            return False
        row.reviewed_at = datetime.now(UTC) if reviewed else None
        return True


@dataclass(frozen=True, slots=True)
class EventIdentityRecord:
    """An unknown identity an event saw: its label, visits, and the name it was given."""

    label: str
    events: int
    named_as: str | None


def identities_of(engine: Engine, event_ids: list[str]) -> dict[str, list[EventIdentityRecord]]:
    """The unknown identities each of these events saw (one query, for a page of events)."""
    if not event_ids:
        return {}
    query = (
        select(
            EventIdentity.event_id,
            UnknownIdentity.label,
            UnknownIdentity.events,
            UnknownIdentity.named_as,
        )
        .join(UnknownIdentity, UnknownIdentity.id == EventIdentity.identity_id)
        .where(EventIdentity.event_id.in_(event_ids))
        .order_by(UnknownIdentity.id)
    )
    out: dict[str, list[EventIdentityRecord]] = {}
    with Session(engine) as session:
        for event_id, label, events, named_as in session.execute(query):
            out.setdefault(event_id, []).append(EventIdentityRecord(label, events, named_as))
    return out
