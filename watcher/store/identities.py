"""Unknown identities for people: list them, name one (promotion)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import CursorResult, Engine, Result, func, select, update
from sqlalchemy.orm import Session

from watcher.store.grouping import lock_identities
from watcher.store.models import Event, EventIdentity, Sighting, UnknownIdentity

if TYPE_CHECKING:  # dlib is loaded only by the commands that embed faces
    from watcher.core import FaceEngine
    from watcher.faces.manage import AddResult

log = logging.getLogger("watcher.store")

DEFAULT_MAX_PHOTOS: Final = 3


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
class PromotionResult:
    """What `promote` did: photos added to the gallery and rows relabelled."""

    label: str
    name: str
    photos: tuple[Path, ...]  # copied into known_faces/<name>/
    refused: tuple[tuple[Path, str], ...]  # crops tried and not usable, with why
    sightings: int  # relabelled with the name
    events: int  # events that saw this identity (they keep their clips)


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


def _crops(session: Session, identity_id: int) -> list[Path]:
    """The identity's crops on disk, best first: each event's largest face, then the rest."""
    height = (Sighting.bottom - Sighting.top).label("px")
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
    return [Path(p) for p in ordered if p is not None and Path(p).is_file()]


def promote(
    engine: Engine,
    label: str,
    name: str,
    known_faces_dir: Path,
    *,
    face_engine: FaceEngine,
    max_photos: int = DEFAULT_MAX_PHOTOS,
) -> PromotionResult:
    """Make an unknown identity a known person: its best crops join known_faces/<name>/.

    Each crop must still show exactly one usable face (faces.manage.add_images
    checks and copies). Then its sightings are relabelled with the name and the
    identity is marked `named_as`; its events keep their clips. A running daemon
    picks the new photos up by its gallery hot reload. GalleryError (one line)
    when the label does not exist, the name is invalid, or no crop is usable.
    """
    from watcher.faces.manage import GalleryError, add_images, validate_name

    validate_name(name)
    if max_photos < 1:
        raise GalleryError(f"max_photos must be at least 1, got {max_photos}")
    with Session(engine) as session:
        row = session.scalar(select(UnknownIdentity).where(UnknownIdentity.label == label))
        if row is None:
            raise GalleryError(f"no unknown identity {label!r} (see `watcher faces unknown`)")
        if row.named_as is not None:
            raise GalleryError(f"{label} was already named {row.named_as!r}")
        identity_id = row.id
        candidates = _crops(session, identity_id)
    if not candidates:
        raise GalleryError(f"{label} has no face crop left on disk to learn from")
    # Photos first, rows second: a row claiming a person the gallery lacks would mislead.
    added: list[AddResult] = []
    refused: list[tuple[Path, str]] = []
    for crop in candidates:
        if len(added) >= max_photos:
            break
        for result in add_images(face_engine, known_faces_dir, name, [crop]):
            if result.accepted:
                added.append(result)
            else:
                refused.append((crop, result.reason or "unusable"))
    if not added:
        why = "; ".join(f"{p.name}: {r}" for p, r in refused[:3])
        raise GalleryError(f"no crop of {label} is usable as a gallery photo ({why})")
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
    photos = tuple(r.dest for r in added if r.dest is not None)
    log.debug("store: %s named %s: %d photo(s) added", label, name, len(photos))
    return PromotionResult(label, name, photos, tuple(refused), sightings, events or 0)
