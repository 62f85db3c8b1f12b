"""Name an unknown identity: its best crops join the gallery, then its rows carry the name."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

from watcher.core import FaceEngine
from watcher.faces.manage import AddResult, GalleryError, add_images, validate_name
from watcher.store import find_identity, identity_crops, mark_named

log = logging.getLogger("watcher.store")

DEFAULT_MAX_PHOTOS: Final = 3


@dataclass(frozen=True, slots=True)
class NamingResult:
    """What naming did: photos added to the gallery and rows relabelled."""

    label: str
    name: str
    photos: tuple[Path, ...]  # copied into known_faces/<name>/
    refused: tuple[tuple[Path, str], ...]  # crops tried and not usable, with why
    sightings: int  # relabelled with the name
    events: int  # events that saw this identity (they keep their clips)


def name_identity(
    engine: Engine,
    label: str,
    name: str,
    known_faces_dir: Path,
    *,
    face_engine: FaceEngine,
    max_photos: int = DEFAULT_MAX_PHOTOS,
) -> NamingResult:
    """Make an unknown identity a known person: its best crops join known_faces/<name>/.

    Each crop must still show exactly one usable face (faces.manage.add_images
    checks and copies). Then its sightings are relabelled with the name and the
    identity is marked `named_as`; its events keep their clips. A running daemon
    picks the new photos up by its gallery hot reload. GalleryError (one line)
    when the label does not exist, the name is invalid, or no crop is usable.
    """
    validate_name(name)
    if max_photos < 1:
        raise GalleryError(f"max_photos must be at least 1, got {max_photos}")
    identity = find_identity(engine, label)
    if identity is None:
        raise GalleryError(f"no unknown identity {label!r} (see `watcher faces unknown`)")
    if identity.named_as is not None:
        raise GalleryError(f"{label} was already named {identity.named_as!r}")
    candidates = [p for p in identity_crops(engine, identity.id) if p.is_file()]
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
    sightings, events = mark_named(engine, identity.id, name)
    photos = tuple(r.dest for r in added if r.dest is not None)
    log.debug("store: %s named %s: %d photo(s) added", label, name, len(photos))
    return NamingResult(label, name, photos, tuple(refused), sightings, events)
