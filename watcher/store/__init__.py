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
from watcher.store.recovery import recover_open_events
from watcher.store.schema import (
    SchemaError,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from watcher.store.writer import MissingEventError, SightingData, StoreWriter

__all__ = [
    "Base",
    "Event",
    "EventRecord",
    "MissingEventError",
    "Sighting",
    "SchemaError",
    "SightingData",
    "SightingRecord",
    "StoreWriter",
    "UTCDateTime",
    "close_open_events",
    "current_revision",
    "downgrade",
    "get_event",
    "head_revision",
    "init_db",
    "list_events",
    "make_engine",
    "recover_open_events",
    "upgrade",
]
