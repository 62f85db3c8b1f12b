"""The gallery of known people, loaded from known_faces/ into one NumPy matrix.

Layout: known_faces/<person>/<image> (one face per image), or known_faces/<person>.<ext>.
What each image yields is cached by content (see cache.py), so only new or changed
images are embedded.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from watcher.constants import EMBEDDING_SIZE, GALLERY_IMAGE_EXTS
from watcher.core import Box, Embeddings, FaceEngine, RGBImage, box_height
from watcher.faces import learned, watchlist
from watcher.faces.cache import Entry, GalleryCache, digest_of
from watcher.faces.photo_file import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    ImageError,
    decode_rgb,
    image_size,
    read_bytes,
    read_rgb,
    regular_file,
)

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "Gallery",
    "ImageError",
    "KnownImage",
    "Rejected",
    "decode_rgb",
    "image_size",
    "load_gallery",
    "read_bytes",
    "read_rgb",
    "regular_file",
]

log = logging.getLogger(__name__)

# Gallery photos are searched for faces down to this fraction of their longer side,
# and never below _GALLERY_MIN_FACE_PX (a phone photo need not be scanned in full).
_GALLERY_MIN_FACE_FRACTION = 1 / 15
_GALLERY_MIN_FACE_PX = 40
# When nothing is found, faces down to this size are looked for (a small photo).
_GALLERY_SMALL_FACE_PX = 24
# A gallery face shorter than this gives a poor embedding: `faces add` refuses it and
# `faces check` reports it.
USEFUL_FACE_PX = 80

# (path, size, mtime_ns) of every gallery image, sorted: cheap to take, and it changes
# whenever an image is added, replaced or removed.
Fingerprint = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Rejected:
    """A gallery image left out, and why."""

    path: Path
    reason: str
    person: str = ""
    digest: str | None = None  # None when the file could not even be read


@dataclass(frozen=True)
class KnownImage:
    """One usable gallery image: whose it is, its content digest and the face's box."""

    person: str
    path: Path
    digest: str
    box: Box

    @property
    def face_px(self) -> int:
        """Height of the face in pixels."""
        return box_height(self.box)


@dataclass(frozen=True)
class Match:
    """The nearest known face: its person when within tolerance, and the distance."""

    name: str | None
    distance: float | None


@dataclass
class Gallery:
    """Known embeddings as one matrix, so a comparison is one vectorised computation.

    Treated as immutable once loaded: a reload builds a new Gallery and swaps it in.
    """

    names: list[str] = field(default_factory=list)
    matrix: Embeddings = field(default_factory=lambda: np.empty((0, EMBEDDING_SIZE)))
    rejected: list[Rejected] = field(default_factory=list)
    images: list[KnownImage] = field(default_factory=list)  # parallel to names and matrix rows
    fingerprint: Fingerprint = ()  # of the files as they were read
    # Looks learned at the cameras (faces/learned.py), apart from the user's photos.
    learned_names: list[str] = field(default_factory=list)
    learned_matrix: Embeddings = field(default_factory=lambda: np.empty((0, EMBEDDING_SIZE)))
    # People on the watch-list by their folder's marker (faces/watchlist.py).
    watched: frozenset[str] = frozenset()

    def rows(self) -> tuple[list[str], Embeddings, list[bool]]:
        """Every row to match against: (names, matrix, is-a-user's-photo), photos first."""
        names = self.names + self.learned_names
        matrix = np.vstack([self.matrix, self.learned_matrix])
        return names, matrix, [True] * len(self.names) + [False] * len(self.learned_names)

    @property
    def people(self) -> dict[str, int]:
        """Each known person and how many images they have."""
        counts: dict[str, int] = {}
        for name in self.names:
            counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))

    def match(self, embeddings: Embeddings, tolerance: float) -> list[Match]:
        """For each embedding, the nearest known person if within `tolerance`."""
        if len(embeddings) == 0:
            return []
        if not self.names:
            return [Match(None, None) for _ in range(len(embeddings))]
        distances = np.linalg.norm(self.matrix[None, :, :] - embeddings[:, None, :], axis=2)
        best = distances.argmin(axis=1)
        out = []
        for row, col in enumerate(best):
            d = float(distances[row, col])
            out.append(Match(self.names[col] if d <= tolerance else None, d))
        return out


def scan(folder: Path) -> list[tuple[str, Path]]:
    """(person, image path) pairs under a gallery folder, sorted."""
    found: list[tuple[str, Path]] = []
    if not folder.is_dir():
        return found
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found.extend(
                (entry.name, p)
                for p in sorted(entry.iterdir())
                if p.is_file() and not p.name.startswith(".") and is_image_name(p)
            )
        elif entry.is_file() and is_image_name(entry):
            found.append((entry.stem, entry))
    return found


def is_image_name(path: Path) -> bool:
    """Whether the gallery reads a file of this name (by its extension)."""
    return path.suffix.lower() in GALLERY_IMAGE_EXTS


def fingerprint(folder: Path) -> Fingerprint:
    """(path, size, mtime_ns) of every gallery image: no file is opened."""
    out = []
    for _, path in scan(folder):
        try:
            st = path.stat()
        except OSError:
            continue  # vanished since the scan: the next look will not see it either
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out)) + learned.fingerprint(folder) + watchlist.fingerprint(folder)


def _padded(rgb: RGBImage) -> RGBImage:
    """The photo with half its size added on every side, in its mean colour."""
    h, w = rgb.shape[:2]
    colour = [int(c) for c in rgb.reshape(-1, 3).mean(axis=0)]
    out = cv2.copyMakeBorder(rgb, h // 2, h // 2, w // 2, w // 2, cv2.BORDER_CONSTANT, value=colour)
    return np.ascontiguousarray(out)


def find_face(engine: FaceEngine, rgb: RGBImage) -> tuple[RGBImage, Box]:
    """(the picture the face was found in, its box): the one face of a photo, or
    ImageError when there is not exactly one.

    A tight crop of a face leaves HOG no margin to see it: such a photo is padded
    by half its size on each side and searched again, for faces down to
    _GALLERY_SMALL_FACE_PX (a small photo is upsampled for that).
    """
    longer = max(rgb.shape[:2])
    min_face = max(_GALLERY_MIN_FACE_PX, round(longer * _GALLERY_MIN_FACE_FRACTION))
    picture = rgb
    boxes = engine.detect(picture, min_face)
    if not boxes:
        picture = _padded(rgb)
        boxes = engine.detect(picture, min(min_face, _GALLERY_SMALL_FACE_PX))
    if not boxes:
        raise ImageError("no face found")
    if len(boxes) > 1:
        raise ImageError(f"{len(boxes)} faces found; a gallery image must show exactly one")
    return picture, boxes[0]


def embed_photo(engine: FaceEngine, path: Path) -> Embeddings:
    """The embedding of the one face in a photo; ImageError if there is not exactly one."""
    picture, box = find_face(engine, read_rgb(path))
    return engine.embed(picture, [box])[0]


def analyse_bytes(engine: FaceEngine, cache: GalleryCache, data: bytes) -> tuple[str, Entry]:
    """(digest, what the image yields), from the cache when its content is known there."""
    digest = digest_of(data)
    entry = cache.get(digest)
    if entry is None:
        try:
            picture, box = find_face(engine, decode_rgb(data))
            entry = Entry(vector=engine.embed(picture, [box])[0], box=box)
        except ImageError as exc:
            entry = Entry(reason=str(exc))
        cache.put(digest, entry)
    return digest, entry


def load_gallery(
    engine: FaceEngine,
    folder: Path,
    cache: GalleryCache | None = None,
    *,
    log_rejected: bool = True,
) -> Gallery:
    """Load every usable image under `folder`, embedding only what the cache lacks.

    `cache` defaults to the one in `<folder>/.cache/`; pass GalleryCache(None) for
    none on disk. Each rejected image is one warning line unless `log_rejected` is False.
    """
    if cache is None:
        cache = GalleryCache.for_folder(folder)
    cache.sync()
    gallery = Gallery()
    vectors: list[Embeddings] = []
    prints: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    paths: set[Path] = set()
    for person, path in scan(folder):
        paths.add(path)
        try:
            st, digest, entry = _entry_for(engine, cache, path)
        except ImageError as exc:
            # Unreadable now (permissions, a vanishing file): not a property of the content.
            _reject(gallery, Rejected(path, str(exc), person), log_rejected)
            _stat_into(prints, path)
            continue
        prints.append((str(path), st.st_size, st.st_mtime_ns))
        seen.add(digest)
        if entry.vector is None or entry.box is None:
            reason = entry.reason or "unusable"
            _reject(gallery, Rejected(path, reason, person, digest), log_rejected)
            continue
        vectors.append(entry.vector)
        gallery.names.append(person)
        gallery.images.append(KnownImage(person, path, digest, entry.box))
    if vectors:
        gallery.matrix = np.vstack(vectors)
    gallery.fingerprint = (
        tuple(sorted(prints)) + learned.fingerprint(folder) + watchlist.fingerprint(folder)
    )
    gallery.watched = watchlist.watched(folder) & set(gallery.people)
    _add_learned(gallery, folder)
    if folder.is_dir():
        cache.retain(seen, paths)
        cache.save()
    log.info(
        "gallery %s: %d people, %d images, %d rejected",
        folder,
        len(gallery.people),
        len(gallery.names),
        len(gallery.rejected),
    )
    return gallery


def _add_learned(gallery: Gallery, folder: Path) -> None:
    """The learned looks of everyone who has photos (a removed person's are ignored)."""
    chunks = []
    for person in learned.people(folder):
        if person in gallery.people:
            looks = learned.load(folder, person)
            gallery.learned_names.extend([person] * len(looks))
            chunks.append(looks.vectors)
    if chunks:
        gallery.learned_matrix = np.vstack(chunks)


def _entry_for(
    engine: FaceEngine, cache: GalleryCache, path: Path
) -> tuple[os.stat_result, str, Entry]:
    """(stat, digest, entry) of one gallery file, reading it only when its stat is new."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}") from None
    digest = cache.digest_hint(path, st)
    entry = cache.get(digest) if digest is not None else None
    if digest is not None and entry is not None:
        return st, digest, entry
    data, st = read_bytes(path)
    digest, entry = analyse_bytes(engine, cache, data)
    cache.note(path, st, digest)
    return st, digest, entry


def _reject(gallery: Gallery, item: Rejected, log_it: bool) -> None:
    gallery.rejected.append(item)
    if log_it:
        log.warning("%s: skipped: %s", item.path, item.reason)


def _stat_into(prints: list[tuple[str, int, int]], path: Path) -> None:
    try:
        st = path.stat()
    except OSError:
        return
    prints.append((str(path), st.st_size, st.st_mtime_ns))
