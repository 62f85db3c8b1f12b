"""Event store: tables, read queries, the single background writer, unknown identities.

Names are loaded on first use (PEP 562): a reader of events (`watcher events list`,
the review page) needs the tables and Core queries, not the ORM models, the grouping's
NumPy nor the writer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.lazy import lazy_names

if TYPE_CHECKING:
    from watcher.store.blobs import from_blob, to_blob
    from watcher.store.db import get_event, init_db, list_events, make_engine
    from watcher.store.grouping import DEFAULT_GROUP_DISTANCE
    from watcher.store.identities import (
        IdentityRecord,
        IdentityRef,
        find_identity,
        identity_crops,
        list_unknown,
        mark_named,
    )
    from watcher.store.models import Base, Event, EventIdentity, Sighting, UnknownIdentity
    from watcher.store.records import EventRecord, SightingRecord
    from watcher.store.schema import (
        SchemaError,
        current_revision,
        downgrade,
        head_revision,
        upgrade,
    )
    from watcher.store.tables import UTCDateTime
    from watcher.store.writer import MissingEventError, SightingData, StoreWriter

# Each public name and the submodule that defines it.
_WHERE: dict[str, str] = {
    "EventRecord": "records",
    "SightingRecord": "records",
    "get_event": "db",
    "init_db": "db",
    "list_events": "db",
    "make_engine": "db",
    "DEFAULT_GROUP_DISTANCE": "grouping",
    "from_blob": "blobs",
    "to_blob": "blobs",
    "IdentityRecord": "identities",
    "IdentityRef": "identities",
    "find_identity": "identities",
    "identity_crops": "identities",
    "list_unknown": "identities",
    "mark_named": "identities",
    "Base": "models",
    "Event": "models",
    "EventIdentity": "models",
    "Sighting": "models",
    "UnknownIdentity": "models",
    "UTCDateTime": "tables",
    "SchemaError": "schema",
    "current_revision": "schema",
    "downgrade": "schema",
    "head_revision": "schema",
    "upgrade": "schema",
    "MissingEventError": "writer",
    "SightingData": "writer",
    "StoreWriter": "writer",
}

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


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
