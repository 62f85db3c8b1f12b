"""Event store: models, read queries, the single background writer, unknown identities."""

from typing import Any

from watcher.store.db import (
    EventRecord,
    SightingRecord,
    get_event,
    init_db,
    list_events,
    make_engine,
)
from watcher.store.grouping import DEFAULT_GROUP_DISTANCE, from_blob, to_blob
from watcher.store.identities import IdentityRecord, PromotionResult, list_unknown, promote
from watcher.store.models import Base, Event, EventIdentity, Sighting, UnknownIdentity, UTCDateTime
from watcher.store.schema import (
    SchemaError,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from watcher.store.writer import MissingEventError, SightingData, StoreWriter

__all__ = [
    "DEFAULT_GROUP_DISTANCE",
    "Base",
    "Event",
    "EventIdentity",
    "EventRecord",
    "IdentityRecord",
    "MissingEventError",
    "PromotionResult",
    "Sighting",
    "SchemaError",
    "SightingData",
    "SightingRecord",
    "StoreWriter",
    "UTCDateTime",
    "UnknownIdentity",
    "current_revision",
    "downgrade",
    "from_blob",
    "get_event",
    "head_revision",
    "init_db",
    "list_events",
    "list_unknown",
    "make_engine",
    "promote",
    "to_blob",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    """Transitional: the CLI still imports recovery from here until it moves to watcher/cli/.

    Recovery lives in watcher.housekeeping (above the store); this lazy name goes
    once the CLI imports it from there.
    """
    if name == "recover_open_events":
        from watcher.housekeeping.recovery import recover_open_events

        return recover_open_events
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
