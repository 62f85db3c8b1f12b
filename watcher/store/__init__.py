"""Event store: models, read queries, the single background writer, unknown identities."""

from watcher.store.db import (
    EventRecord,
    SightingRecord,
    get_event,
    init_db,
    list_events,
    make_engine,
)
from watcher.store.grouping import DEFAULT_GROUP_DISTANCE, from_blob, to_blob
from watcher.store.identities import (
    IdentityRecord,
    IdentityRef,
    find_identity,
    identity_crops,
    list_unknown,
    mark_named,
)
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
    "IdentityRef",
    "MissingEventError",
    "Sighting",
    "SchemaError",
    "SightingData",
    "SightingRecord",
    "StoreWriter",
    "UTCDateTime",
    "UnknownIdentity",
    "current_revision",
    "downgrade",
    "find_identity",
    "from_blob",
    "get_event",
    "head_revision",
    "identity_crops",
    "init_db",
    "list_events",
    "list_unknown",
    "make_engine",
    "mark_named",
    "to_blob",
    "upgrade",
]
