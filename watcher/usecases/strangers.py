"""Tidy the unknown identities: merge two that are one person, forget one that is no face,
undo a naming, and preview what naming would add.

The rows change inside one transaction under the identities' lock (the daemon's
writer groups new sightings under the same lock), so a sighting arriving meanwhile
joins either the identity before or the one after, never a half-merged one. The
review page makes these changes: SQLAlchemy Core, so that its process loads no ORM.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, delete, insert, select, update

from watcher.constants import GALLERY_IMAGE_EXTS
from watcher.store import find_identity, identity_crops
from watcher.store.locking import lock_identities
from watcher.store.recount import refresh_identities
from watcher.store.tables import event_identities, sightings, unknown_identities

if TYPE_CHECKING:
    from sqlalchemy import Row

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


def _unnamed(conn: Connection, label: str) -> Row[*tuple[Any, ...]]:
    row = conn.execute(
        select(unknown_identities).where(unknown_identities.c.label == label)
    ).first()
    if row is None:
        raise IdentityError(f"no unknown identity {label!r}")
    if row.named_as is not None:
        raise IdentityError(f"{label} is named {row.named_as!r}: undo the naming first")
    return row


def _linked(conn: Connection, identity_id: int) -> list[str]:
    """The ids of the events that saw an identity."""
    link = event_identities.c
    return list(conn.scalars(select(link.event_id).where(link.identity_id == identity_id)))


def merge_identities(engine: Engine, keep: str, other: str) -> Merged:
    """Make `other` part of `keep`: its sightings and events move, then it is deleted."""
    # NumPy is for the centroid: the page's listings and the other tidying need none.
    from watcher.store.blobs import from_blob, to_blob

    if keep == other:
        raise IdentityError(f"{keep} cannot be merged with itself")
    u = unknown_identities.c
    with engine.begin() as conn:
        lock_identities(conn)
        kept, gone = _unnamed(conn, keep), _unnamed(conn, other)
        # The centroid is the mean of both groups' members: each weighted by its size.
        w_kept, w_gone = max(kept.sightings, 1), max(gone.sightings, 1)
        centroid = (from_blob(kept.centroid) * w_kept + from_blob(gone.centroid) * w_gone) / (
            w_kept + w_gone
        )
        conn.execute(
            update(unknown_identities)
            .where(u.id == kept.id)
            .values(
                centroid=to_blob(centroid),
                first_seen=min(kept.first_seen, gone.first_seen),
                last_seen=max(kept.last_seen, gone.last_seen),
            )
        )
        conn.execute(
            update(sightings).where(sightings.c.identity_id == gone.id).values(identity_id=kept.id)
        )
        have = set(_linked(conn, kept.id))
        moving = [e for e in _linked(conn, gone.id) if e not in have]
        conn.execute(delete(event_identities).where(event_identities.c.identity_id == gone.id))
        if moving:
            conn.execute(
                insert(event_identities), [{"event_id": e, "identity_id": kept.id} for e in moving]
            )
        conn.execute(delete(unknown_identities).where(u.id == gone.id))
        refresh_identities(conn, [kept.id])
        counts = conn.execute(select(u.sightings, u.events).where(u.id == kept.id)).one()
        result = Merged(kept.label, other, counts.sightings, counts.events)
    log.info("store: %s merged into %s", other, keep)
    return result


def forget_identity(engine: Engine, label: str) -> Forgotten:
    """Delete an identity that is no face (or no one to keep): its sightings stay with their
    events, ungrouped and without the embedding that grouped them."""
    with engine.begin() as conn:
        lock_identities(conn)
        row = _unnamed(conn, label)
        result = Forgotten(label, row.sightings, row.events)
        # Without its embedding, a sighting can never be grouped or named again.
        conn.execute(
            update(sightings)
            .where(sightings.c.identity_id == row.id)
            .values(identity_id=None, embedding=None)
        )
        conn.execute(delete(event_identities).where(event_identities.c.identity_id == row.id))
        conn.execute(delete(unknown_identities).where(unknown_identities.c.id == row.id))
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
    with engine.begin() as conn:
        lock_identities(conn)
        relabelled = conn.execute(
            update(sightings)
            .where(sightings.c.identity_id == identity.id, sightings.c.name == name)
            .values(name=None)
        )
        conn.execute(
            update(unknown_identities)
            .where(unknown_identities.c.id == identity.id)
            .values(named_as=None)
        )
    log.info("store: naming of %s as %s undone: %d photo(s) removed", label, name, len(removed))
    return Undone(label, name, tuple(removed), relabelled.rowcount)
