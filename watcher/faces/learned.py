"""Looks of known people learned at the cameras, kept apart from the user's photos.

A household's photos are rarely taken where its cameras hang: the light, the
angle and the lens differ, and the family's own looks land 0.45-0.55 from their
photos where relatives do too. So watcher keeps a few of each person's
confident sightings (the rule is in `decide/tracker.py`) as extra rows of the
gallery: matching gets sharper; the bounds still come from the user's photos only.

One file per person, `known_faces/.learned/<person>.npz` (hidden: never read as a
photo), written whole or not at all. A person's learned looks count only while
the person has photos. `watcher faces list` shows them and `watcher faces
forget-learned NAME` deletes them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from watcher.constants import EMBEDDING_SIZE
from watcher.core import Embeddings

LEARNED_DIR = ".learned"
# At most this many learned looks a person: enough for day and night, near and
# far, few enough that the user's photos keep the most weight.
MAX_PER_PERSON = 8
# A look this close to one the person already has adds nothing new.
MIN_NOVELTY = 0.12
_SUFFIX = ".npz"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnedLooks:
    """One person's learned looks: the embeddings and where and when each was seen."""

    person: str
    vectors: Embeddings
    cameras: list[str]
    seen_at: list[str]  # ISO 8601, UTC

    def __len__(self) -> int:
        return len(self.cameras)


def folder_of(gallery: Path) -> Path:
    """The hidden folder of the gallery at `gallery` that holds learned looks."""
    return gallery / LEARNED_DIR


def _path(gallery: Path, person: str) -> Path:
    return folder_of(gallery) / f"{person}{_SUFFIX}"


def load(gallery: Path, person: str) -> LearnedLooks:
    """A person's learned looks (none when the file is missing or unreadable)."""
    path = _path(gallery, person)
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = np.asarray(data["vectors"], dtype=np.float64).reshape(-1, EMBEDDING_SIZE)
            cameras = [str(c) for c in data["cameras"]]
            seen = [str(s) for s in data["seen_at"]]
    except FileNotFoundError:
        return LearnedLooks(person, np.empty((0, EMBEDDING_SIZE)), [], [])
    except (OSError, ValueError, KeyError) as exc:
        log.warning("%s: learned looks unreadable (%s); ignored", path, exc)
        return LearnedLooks(person, np.empty((0, EMBEDDING_SIZE)), [], [])
    if not len(vectors) == len(cameras) == len(seen):
        log.warning("%s: learned looks damaged; ignored", path)
        return LearnedLooks(person, np.empty((0, EMBEDDING_SIZE)), [], [])
    return LearnedLooks(person, vectors, cameras, seen)


def people(gallery: Path) -> list[str]:
    """Everyone with a learned-looks file."""
    folder = folder_of(gallery)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix == _SUFFIX and p.is_file())


def fingerprint(gallery: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every learned-looks file: a change reloads the gallery."""
    out = []
    for person in people(gallery):
        path = _path(gallery, person)
        with contextlib.suppress(OSError):
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _save(gallery: Path, looks: LearnedLooks) -> None:
    folder = folder_of(gallery)
    folder.mkdir(exist_ok=True)
    tmp = folder / f".{looks.person}.{secrets.token_hex(6)}.tmp{_SUFFIX}"
    try:
        with tmp.open("wb") as out:
            np.savez(
                out,
                vectors=looks.vectors,
                cameras=np.asarray(looks.cameras, dtype=str),
                seen_at=np.asarray(looks.seen_at, dtype=str),
            )
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, _path(gallery, looks.person))
    finally:
        tmp.unlink(missing_ok=True)


def kept(current: Embeddings, vector: Embeddings) -> slice | None:
    """Which of a person's `current` learned looks stay beside a new `vector` (the
    oldest goes at MAX_PER_PERSON); None when `vector` adds nothing new."""
    if len(current) and np.linalg.norm(current - vector, axis=1).min() < MIN_NOVELTY:
        return None
    return slice(-(MAX_PER_PERSON - 1), None) if len(current) >= MAX_PER_PERSON else slice(None)


def add(gallery: Path, person: str, vector: Embeddings, camera: str) -> bool:
    """Keep `vector` as a learned look of `person` unless it adds nothing new. True
    when it was kept."""
    current = load(gallery, person)
    keep = kept(current.vectors, vector)
    if keep is None:
        return False
    now = datetime.now(UTC).isoformat(timespec="seconds")
    _save(
        gallery,
        LearnedLooks(
            person,
            np.vstack([current.vectors[keep], vector[None, :]]),
            [*current.cameras[keep], camera],
            [*current.seen_at[keep], now],
        ),
    )
    return True


def forget(gallery: Path, person: str) -> int:
    """Delete a person's learned looks; how many there were."""
    count = len(load(gallery, person))
    _path(gallery, person).unlink(missing_ok=True)
    return count
