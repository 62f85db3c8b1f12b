"""The daemon writer's ORM classes, mapped onto the Core tables of watcher.store.tables.

Only the writer (and what runs inside its transactions) needs objects; readers query
the tables with Core and never import this module, nor the ORM.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from watcher.store import tables
from watcher.store.tables import (
    DECISION_LEN,
    NAMING_CONVENTION,
    NOTE_LEN,
    PATH_LEN,
    UTCDateTime,
    utcnow,
)

__all__ = [
    "DECISION_LEN",
    "NAMING_CONVENTION",
    "NOTE_LEN",
    "PATH_LEN",
    "Base",
    "Event",
    "EventIdentity",
    "Notification",
    "Sighting",
    "UTCDateTime",
    "UnknownIdentity",
    "utcnow",
]


class Base(DeclarativeBase):
    """Declarative base of the watcher tables: the very MetaData Alembic compares."""

    metadata = tables.metadata


class Event(Base):
    """An unknown face appeared on a camera: one clip, snapshot and face crop."""

    __table__ = tables.events

    id: Mapped[str]
    camera: Mapped[str]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    clip_path: Mapped[str | None]
    snapshot_path: Mapped[str | None]
    face_path: Mapped[str | None]
    faces: Mapped[int]
    closest_distance: Mapped[float | None]
    status: Mapped[str]
    host: Mapped[str | None]
    created_at: Mapped[datetime]
    clip_started_at: Mapped[datetime | None]
    decision: Mapped[str | None]
    reviewed_at: Mapped[datetime | None]

    sightings: Mapped[list[Sighting]] = relationship(
        back_populates="event",
        order_by=lambda: (Sighting.at, Sighting.id),
        cascade="all, delete-orphan",
        passive_deletes=True,  # the database's ON DELETE CASCADE does the work
    )

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, camera={self.camera!r}, status={self.status!r})"


class Sighting(Base):
    """One face seen in one frame of an event."""

    __table__ = tables.sightings

    id: Mapped[int]
    event_id: Mapped[str]
    at: Mapped[datetime]
    offset_s: Mapped[float]
    top: Mapped[int]
    right: Mapped[int]
    bottom: Mapped[int]
    left: Mapped[int]
    name: Mapped[str | None]
    distance: Mapped[float | None]
    embedding: Mapped[bytes | None]
    crop_path: Mapped[str | None]
    identity_id: Mapped[int | None]
    note: Mapped[str | None]

    event: Mapped[Event] = relationship(back_populates="sightings")

    def __repr__(self) -> str:
        return f"Sighting(event_id={self.event_id!r}, at={self.at!r}, name={self.name!r})"


class UnknownIdentity(Base):
    """One unknown person: sightings grouped by embedding distance, across cameras and events."""

    __table__ = tables.unknown_identities

    id: Mapped[int]
    label: Mapped[str]
    created_at: Mapped[datetime]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    sightings: Mapped[int]
    events: Mapped[int]
    centroid: Mapped[bytes]
    crop_path: Mapped[str | None]
    crop_px: Mapped[int | None]
    named_as: Mapped[str | None]
    host: Mapped[str | None]

    def __repr__(self) -> str:
        return f"UnknownIdentity(label={self.label!r}, named_as={self.named_as!r})"


class EventIdentity(Base):
    """Which unknown identities an event saw (many to many)."""

    __table__ = tables.event_identities

    event_id: Mapped[str]
    identity_id: Mapped[int]


class Notification(Base):
    """The outbox: one message to one target (MQTT, a webhook), until it is delivered."""

    __table__ = tables.notifications

    id: Mapped[int]
    message_id: Mapped[str]
    event_id: Mapped[str]
    camera: Mapped[str]
    kind: Mapped[str]
    target: Mapped[str]
    payload: Mapped[str]
    created_at: Mapped[datetime]
    status: Mapped[str]
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None]

    def __repr__(self) -> str:
        return f"Notification(id={self.id!r}, target={self.target!r}, kind={self.kind!r})"
