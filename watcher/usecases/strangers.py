"""Tidy the unknown identities: merge two that are one person, forget one that is no face,
undo a naming, and preview what naming would add.

The rows change inside one transaction under the identities' lock (the daemon's
writer groups new sightings under the same lock), so a sighting arriving meanwhile
joins either the identity before or the one after, never a half-merged one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import CursorResult, Engine, delete, select, update
from sqlalchemy.orm import Session

from watcher.constants import GALLERY_IMAGE_EXTS
from watcher.store import find_identity, identity_crops
from watcher.store.locking import lock_identities
from watcher.store.models import EventIdentity, Sighting, UnknownIdentity

log = logging.getLogger("watcher.store")

# How many crops naming adds by default: naming.DEFAULT_MAX_PHOTOS, repeated (and tested
# equal) because importing naming brings the gallery's OpenCV into a caller that only lists.
NAMING_PHOTOS: Final = 3


class IdentityError(ValueError):
    """The change cannot be made; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Merged:
    """What merging did: `gone` joined `kept`."""

    kept: str
    gone: str
    sightings: int  # now the kept identity's
    events: int


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What forgetting an identity did."""

    label: str
    sightings: int  # no longer grouped (they stay with their events)
    events: int


@dataclass(frozen=True, slots=True)
class Undone:
    """What undoing a naming did."""

    label: str
    name: str
    photos: tuple[Path, ...]  # removed from known_faces/<name>/
    sightings: int  # unknown again


def _unnamed(session: Session, label: str) -> UnknownIdentity:
    row = session.scalar(select(UnknownIdentity).where(UnknownIdentity.label == label))
    if row is None:
        raise IdentityError(f"no unknown identity {label!r}")
    if row.named_as is not None:
        raise IdentityError(f"{label} is named {row.named_as!r}: undo the naming first")
    return row


def merge_identities(engine: Engine, keep: str, other: str) -> Merged:
    """Make `other` part of `keep`: its sightings and events move, then it is deleted."""
    # NumPy is for the centroid: the page's listings and the other tidying need none.
    from watcher.store.grouping import from_blob, refresh_identities, to_blob

    if keep == other:
        raise IdentityError(f"{keep} cannot be merged with itself")
    with Session(engine) as session, session.begin():
        lock_identities(session)
        kept, gone = _unnamed(session, keep), _unnamed(session, other)
        # The centroid is the mean of both groups' members: each weighted by its size.
        w_kept, w_gone = max(kept.sightings, 1), max(gone.sightings, 1)
        centroid = (from_blob(kept.centroid) * w_kept + from_blob(gone.centroid) * w_gone) / (
            w_kept + w_gone
        )
        kept.centroid = to_blob(centroid)
        kept.first_seen = min(kept.first_seen, gone.first_seen)
        kept.last_seen = max(kept.last_seen, gone.last_seen)
        session.execute(
            update(Sighting).where(Sighting.identity_id == gone.id).values(identity_id=kept.id)
        )
        have = set(
            session.scalars(
                select(EventIdentity.event_id).where(EventIdentity.identity_id == kept.id)
            )
        )
        moving = session.scalars(
            select(EventIdentity.event_id).where(EventIdentity.identity_id == gone.id)
        ).all()
        session.execute(delete(EventIdentity).where(EventIdentity.identity_id == gone.id))
        session.add_all(
            EventIdentity(event_id=e, identity_id=kept.id) for e in moving if e not in have
        )
        session.delete(gone)
        session.flush()
        refresh_identities(session, [kept.id])
        result = Merged(kept.label, other, kept.sightings, kept.events)
    log.info("store: %s merged into %s", other, keep)
    return result


def forget_identity(engine: Engine, label: str) -> Forgotten:
    """Delete an identity that is no face (or no one to keep): its sightings stay with their
    events, ungrouped and without the embedding that grouped them."""
    with Session(engine) as session, session.begin():
        lock_identities(session)
        row = _unnamed(session, label)
        result = Forgotten(label, row.sightings, row.events)
        # Without its embedding, a sighting can never be grouped or named again.
        session.execute(
            update(Sighting)
            .where(Sighting.identity_id == row.id)
            .values(identity_id=None, embedding=None)
        )
        session.execute(delete(EventIdentity).where(EventIdentity.identity_id == row.id))
        session.delete(row)
    log.info("store: %s forgotten", label)
    return result


def naming_candidates(engine: Engine, label: str, limit: int) -> list[Path]:
    """The crops naming `label` would try, in its order (it adds the first usable ones)."""
    identity = find_identity(engine, label)
    if identity is None:
        raise IdentityError(f"no unknown identity {label!r}")
    return [p for p in identity_crops(engine, identity.id) if p.is_file()][:limit]


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def undo_naming(engine: Engine, label: str, known_faces_dir: Path) -> Undone:
    """Undo `faces name LABEL NAME`: the photos it added go, its sightings are unknown again.

    The photos are found by content: naming copies the identity's crops byte for byte,
    so a photo of the person equal to one of its crops came from it; photos added
    otherwise stay. With no photo of the person left, what was learned of them goes too.
    """
    # Imported here: the gallery's module brings OpenCV, which only this change needs.
    from watcher.faces import learned
    from watcher.faces.manage import remove, validate_name

    identity = find_identity(engine, label)
    if identity is None:
        raise IdentityError(f"no unknown identity {label!r}")
    name = identity.named_as
    if name is None:
        raise IdentityError(f"{label} is not named")
    validate_name(name)
    crops = {d for p in identity_crops(engine, identity.id) if (d := _digest(p)) is not None}
    person_dir = known_faces_dir / name
    photos = (
        sorted(
            p
            for p in person_dir.iterdir()
            if p.is_file() and not p.is_symlink() and p.suffix.lower() in GALLERY_IMAGE_EXTS
        )
        if person_dir.is_dir() and not person_dir.is_symlink()
        else []
    )
    removed: list[Path] = []
    for photo in photos:
        if _digest(photo) in crops:
            remove(known_faces_dir, name, photo.name)
            removed.append(photo)
    if removed and not person_dir.exists():
        learned.forget(known_faces_dir, name)
    with Session(engine) as session, session.begin():
        lock_identities(session)
        relabelled = session.execute(
            update(Sighting)
            .where(Sighting.identity_id == identity.id, Sighting.name == name)
            .values(name=None)
        )
        sightings = relabelled.rowcount if isinstance(relabelled, CursorResult) else 0
        session.execute(
            update(UnknownIdentity).where(UnknownIdentity.id == identity.id).values(named_as=None)
        )
    log.info("store: naming of %s as %s undone: %d photo(s) removed", label, name, len(removed))
    return Undone(label, name, tuple(removed), sightings)
