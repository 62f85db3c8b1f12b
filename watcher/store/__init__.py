"""Event store: SQLAlchemy models, read queries and the single background writer."""

from watcher.store.db import (
    EventRecord,
    SightingRecord,
    close_open_events,
    get_event,
    init_db,
    list_events,
    make_engine,
)
from watcher.store.models import Base, Event, Sighting, UTCDateTime
from watcher.store.writer import MissingEventError, SightingData, StoreWriter

__all__ = [
    "Base",
    "Event",
    "EventRecord",
    "MissingEventError",
    "Sighting",
    "SightingData",
    "SightingRecord",
    "StoreWriter",
    "UTCDateTime",
    "close_open_events",
    "get_event",
    "init_db",
    "list_events",
    "make_engine",
]
