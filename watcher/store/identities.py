"""Unknown identities for people: the queries and writes naming one needs, and the listing.

Naming one (its crops into the gallery, then its rows) is a use case above the
store: watcher.usecases.naming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Engine, Result, func, select, update
from sqlalchemy.orm import Session

from watcher.store.locking import lock_identities
from watcher.store.models import Event, EventIdentity, Sighting, UnknownIdentity


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """One unknown identity, as plain data."""

    label: str
    events: int
    sightings: int
    first_seen: datetime
    last_seen: datetime
    crop_path: str | None  # the crop of its largest face
    named_as: str | None
    host: str | None
    event_ids: tuple[str, ...]  # newest first

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 with zone)."""
        return {
            "label": self.label,
            "events": self.events,
            "sightings": self.sightings,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "crop": self.crop_path,
            "named_as": self.named_as,
            "host": self.host,
            "event_ids": list(self.event_ids),
        }


@dataclass(frozen=True, slots=True)
class IdentityRef:
    """An unknown identity as naming needs it."""

    id: int
    label: str
    named_as: str | None


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched."""
    return result.rowcount if isinstance(result, CursorResult) else 0


def list_unknown(engine: Engine) -> list[IdentityRecord]:
    """Every unknown identity (named ones too), most recently seen first."""
    with Session(engine) as session:
        links: dict[int, list[str]] = {}
        query = (
            select(EventIdentity.identity_id, EventIdentity.event_id)
            .join(Event, Event.id == EventIdentity.event_id)
            .order_by(Event.started_at.desc(), Event.id.desc())
        )
        for identity_id, event_id in session.execute(query):
            links.setdefault(identity_id, []).append(event_id)
        rows = session.scalars(
            select(UnknownIdentity).order_by(
                UnknownIdentity.last_seen.desc(), UnknownIdentity.id.desc()
            )
        )
        return [
            IdentityRecord(
                label=row.label,
                events=row.events,
                sightings=row.sightings,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                crop_path=row.crop_path,
                named_as=row.named_as,
                host=row.host,
                event_ids=tuple(links.get(row.id, ())),
            )
            for row in rows
        ]


def find_identity(engine: Engine, label: str) -> IdentityRef | None:
    """The identity of `label`, or None."""
    with Session(engine) as session:
        row = session.scalar(select(UnknownIdentity).where(UnknownIdentity.label == label))
        return None if row is None else IdentityRef(row.id, row.label, row.named_as)


def identity_crops(engine: Engine, identity_id: int) -> list[Path]:
    """The identity's crop paths, best first: each event's largest face, then the rest."""
    height = (Sighting.bottom - Sighting.top).label("px")
    with Session(engine) as session:
        rows = session.execute(
            select(Sighting.crop_path, Sighting.event_id, height)
            .where(Sighting.identity_id == identity_id, Sighting.crop_path.is_not(None))
            .order_by(height.desc(), Sighting.id)
        ).all()
    # Largest per event first: several events give views that differ more than frames do.
    firsts: list[str | None] = []
    rest: list[str | None] = []
    events: set[str] = set()
    for crop, event_id, _ in rows:
        (rest if event_id in events else firsts).append(crop)
        events.add(event_id)
    ordered = dict.fromkeys(firsts + rest)  # one path once, order kept
    return [Path(p) for p in ordered if p is not None]


def mark_named(engine: Engine, identity_id: int, name: str) -> tuple[int, int]:
    """Relabel the identity's sightings with `name` and mark it named; (sightings, events)."""
    with Session(engine) as session, session.begin():
        lock_identities(session)
        sightings = _rowcount(
            session.execute(
                update(Sighting).where(Sighting.identity_id == identity_id).values(name=name)
            )
        )
        session.execute(
            update(UnknownIdentity).where(UnknownIdentity.id == identity_id).values(named_as=name)
        )
        events = session.scalar(
            select(func.count())
            .select_from(EventIdentity)
            .where(EventIdentity.identity_id == identity_id)
        )
    return sightings, events or 0
