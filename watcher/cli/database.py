"""`watcher db upgrade|current` and `watcher events list`: the events database."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from watcher.cli.common import (
    CommandFailed,
    Subparsers,
    command,
    database,
    group,
    guard,
    missing_database,
    one_line,
    print_json,
)
from watcher.config import WatcherConfig
from watcher.constants import EXIT_OK

if TYPE_CHECKING:
    from watcher.store.records import EventRecord

# The store (its writer's ORM, and numpy through its grouping) is imported by the commands
# themselves, so that building the command line stays cheap for every command.


def register(sub: Subparsers) -> None:
    """Add `db` and `events` to the command line."""
    db = group(sub, "db", "the events database")
    command(db, "upgrade", "apply the schema migrations", db_upgrade)
    command(db, "current", "show the schema revision", db_current)
    events = group(sub, "events", "recorded events")
    listing = command(events, "list", "list events, newest first", events_list)
    listing.add_argument("--json", action="store_true", help="one JSON array on stdout")
    listing.add_argument("--camera")
    listing.add_argument("--since", type=_iso_datetime, help="ISO 8601 date or time")
    listing.add_argument("--limit", type=int)
    show = command(events, "show", "one event: why it was recorded, look by look", events_show)
    show.add_argument("event_id")
    show.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _iso_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {text!r}") from None
    return value if value.tzinfo else value.astimezone()  # naive means local time


@guard
def db_upgrade(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Apply the schema migrations."""
    from watcher.store import current_revision

    with database(cfg, write=True) as engine:
        assert engine is not None
        print(f"database at revision {current_revision(engine)}")
    return EXIT_OK


@guard
def db_current(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Show the schema revision (read only: nothing is migrated or created)."""
    from watcher.store import SchemaError, current_revision, make_engine

    if missing_database(cfg):
        print("database at revision none (no database yet)")
        return EXIT_OK
    try:
        engine = make_engine(cfg.database_url)
    except (SQLAlchemyError, OSError) as exc:
        raise CommandFailed(f"database unavailable: {one_line(exc)}") from None
    try:
        print(f"database at revision {current_revision(engine) or 'none (empty)'}")
    except (SQLAlchemyError, OSError, SchemaError) as exc:
        raise CommandFailed(f"database unavailable: {one_line(exc)}") from None
    finally:
        engine.dispose()
    return EXIT_OK


@guard
def events_list(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """List recorded events, newest first (read only: nothing is migrated or created)."""
    records: list[EventRecord] = []
    with database(cfg, write=False) as engine:
        if engine is not None:  # else no store to load: nothing to read
            from watcher.store import list_events

            records = list_events(engine, camera=args.camera, since=args.since, limit=args.limit)
    if args.json:
        print_json([r.to_json() for r in records])
        return EXIT_OK
    if not records:
        print("no events" if engine is not None else "no events (no database yet)")
    for r in records:
        ended = r.ended_at.astimezone().strftime("%H:%M:%S") if r.ended_at else "recording"
        dist = "-" if r.closest_distance is None else f"{r.closest_distance:.2f}"
        print(
            f"{r.started_at.astimezone():%Y-%m-%d %H:%M:%S}–{ended}  {r.camera:<12} {r.id}  "
            f"faces={r.faces} closest={dist} {r.status}  {r.clip_path or '(no clip)'}"
        )
    return EXIT_OK


@guard
def events_show(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """One event with its decision and every sighting (read only)."""
    record: EventRecord | None = None
    with database(cfg, write=False) as engine:
        if engine is not None:  # else no store to load: nothing to read
            from watcher.store import get_event

            record = get_event(engine, args.event_id)
    if record is None:
        raise CommandFailed(f"no event {args.event_id!r}")
    if args.json:
        print_json(record.to_json())
        return EXIT_OK
    ended = record.ended_at.astimezone().strftime("%H:%M:%S") if record.ended_at else "recording"
    print(
        f"event {record.id} on {record.camera}: "
        f"{record.started_at.astimezone():%Y-%m-%d %H:%M:%S}–{ended}, {record.status}"
    )
    print(f"  clip: {record.clip_path or '(none)'}")
    print(f"  why: {record.decision or '(not recorded: an event from before watcher kept it)'}")
    for s in record.sightings or ():
        dist = "-" if s.distance is None else f"{s.distance:.3f}"
        who = s.name or "unknown"
        print(f"  {s.offset_s:+7.2f} s  {who:<16} distance {dist}  {s.note or ''}")
    return EXIT_OK
