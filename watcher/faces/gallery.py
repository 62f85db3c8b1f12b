"""The gallery of known people, loaded from known_faces/ into one NumPy matrix.

Layout: known_faces/<person>/<image> (one face per image), or known_faces/<person>.<ext>.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from watcher.constants import EMBEDDING_SIZE, GALLERY_IMAGE_EXTS
from watcher.faces.engine import Embeddings, FaceEngine, RGBImage

log = logging.getLogger(__name__)

# Gallery photos are searched for faces down to this fraction of their longer side,
# on a copy no larger than _GALLERY_DETECT_PX (a phone photo need not be scanned in full).
_GALLERY_MIN_FACE_FRACTION = 1 / 15
_GALLERY_MIN_FACE_PX = 40


class ImageError(ValueError):
    """An image file that cannot be read as a picture."""


@dataclass(frozen=True)
class Rejected:
    """A gallery image left out, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Match:
    """The nearest known face: its person when within tolerance, and the distance."""

    name: str | None
    distance: float | None


@dataclass
class Gallery:
    """Known embeddings as one matrix, so a comparison is one vectorised computation."""

    names: list[str] = field(default_factory=list)
    matrix: Embeddings = field(default_factory=lambda: np.empty((0, EMBEDDING_SIZE)))
    rejected: list[Rejected] = field(default_factory=list)

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


def read_rgb(path: Path) -> RGBImage:
    """Read an image file as contiguous RGB, or raise ImageError with the reason."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror}") from None
    if size == 0:
        raise ImageError("empty file")
    data = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageError("not a readable image")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


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
                if p.is_file() and not p.name.startswith(".") and _is_image_name(p)
            )
        elif entry.is_file() and _is_image_name(entry):
            found.append((entry.stem, entry))
    return found


def _is_image_name(path: Path) -> bool:
    return path.suffix.lower() in GALLERY_IMAGE_EXTS


def embed_photo(engine: FaceEngine, path: Path) -> Embeddings:
    """The embedding of the one face in a photo; ImageError if there is not exactly one."""
    rgb = read_rgb(path)
    min_face = max(_GALLERY_MIN_FACE_PX, round(max(rgb.shape[:2]) * _GALLERY_MIN_FACE_FRACTION))
    boxes = engine.detect(rgb, min_face)
    if not boxes:
        raise ImageError("no face found")
    if len(boxes) > 1:
        raise ImageError(f"{len(boxes)} faces found; a gallery image must show exactly one")
    return engine.embed(rgb, boxes)[0]


def load_gallery(engine: FaceEngine, folder: Path) -> Gallery:
    """Embed every usable image under `folder`; log one line per rejected image."""
    gallery = Gallery()
    vectors = []
    for person, path in scan(folder):
        try:
            vectors.append(embed_photo(engine, path))
        except ImageError as exc:
            gallery.rejected.append(Rejected(path, str(exc)))
            log.warning("%s: skipped: %s", path, exc)
            continue
        gallery.names.append(person)
    if vectors:
        gallery.matrix = np.vstack(vectors)
    log.info(
        "gallery %s: %d people, %d images, %d rejected",
        folder,
        len(gallery.people),
        len(gallery.names),
        len(gallery.rejected),
    )
    return gallery
