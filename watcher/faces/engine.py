"""The face engine: dlib's HOG detector and 128-d ResNet embedding; the only dlib importer."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np
import numpy.typing as npt

from watcher.constants import EMBEDDING_SIZE, HOG_WINDOW_PX
from watcher.core import LANDMARK_POINTS, Box, Embeddings, Landmarks, RGBImage, box_height
from watcher.faces.models import EMBED_MODEL, SHAPE_MODEL, ModelsMissing, model_path

__all__ = [
    "Box",
    "Embeddings",
    "FaceEngine",
    "ModelsMissing",
    "RGBImage",
    "box_height",
    "model_path",
]

# dlib builds its HOG detector by decompressing a text form compiled into the
# library: about 0.3 CPU-s at every start. Its binary save loads in a millisecond.
_DETECTOR_FILE = f"hog_frontal_faces-dlib{dlib.__version__}.svm"
_DIGEST_SUFFIX = ".sha256"
_DETECTOR_FILTERS = 5  # front, left, right and two rotated fronts

log = logging.getLogger(__name__)


def _temp_name(path: Path) -> Path:
    # Random, not the PID: hosts sharing a gallery over NFS may have the same PIDs.
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _cached_detector(cache_dir: Path) -> dlib.fhog_object_detector | None:
    """The detector from its saved copy, when that copy is intact (its digest matches)."""
    path = cache_dir / _DETECTOR_FILE
    try:
        data = path.read_bytes()
        digest = path.with_name(path.name + _DIGEST_SUFFIX).read_bytes().strip()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest().encode() != digest:
        log.warning("faces: saved detector %s is damaged; rebuilding it", path)
        return None
    try:
        detector = dlib.fhog_object_detector(str(path))
    except RuntimeError as exc:  # dlib's serialization_error
        log.warning("faces: saved detector %s unreadable (%s); rebuilding it", path, exc)
        return None
    return detector if detector.num_detectors == _DETECTOR_FILTERS else None


def load_detector(cache_dir: Path | None = None) -> dlib.fhog_object_detector:
    """dlib's frontal face detector, through a binary copy kept in `cache_dir` if given.

    `cache_dir`'s parent must exist (the gallery); the folder itself is made if needed.
    """
    if cache_dir is not None:
        cached = _cached_detector(cache_dir)
        if cached is not None:
            return cached
    detector = dlib.get_frontal_face_detector()
    if cache_dir is None:
        return detector
    path = cache_dir / _DETECTOR_FILE
    digest_path = path.with_name(path.name + _DIGEST_SUFFIX)
    saved, digest_tmp = _temp_name(path), _temp_name(digest_path)
    try:
        cache_dir.mkdir(exist_ok=True)  # never the gallery itself: a typo stays visible
        detector.save(str(saved))
        data = saved.read_bytes()
        # The digest goes first: a copy is only ever used when its digest matches.
        digest_tmp.write_bytes(hashlib.sha256(data).hexdigest().encode())
        os.replace(digest_tmp, digest_path)
        os.replace(saved, path)
    except (OSError, RuntimeError) as exc:
        # Only an accelerator: a read-only gallery just means a slower start.
        log.debug("faces: cannot save the detector in %s: %s", cache_dir, exc)
        for tmp in (saved, digest_tmp):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    return detector


def _load(kind: Any, path: Path) -> Any:
    """A dlib model from its file; ModelsMissing when the file is damaged."""
    try:
        return kind(str(path))
    except RuntimeError as exc:
        raise ModelsMissing(f"model file unreadable: {path}: {exc}") from None


def _seen(box: Box, boxes: list[Box]) -> bool:
    """True when `box` is mostly the same face as one already found (overlapping regions)."""
    return any(box.overlap_of_smaller(other) > 0.5 for other in boxes)


class FaceEngine:
    """Detects faces and embeds them (implements `watcher.core.FaceEngine`).

    Thread-safe: every dlib call holds one lock, so the engine is a detector pool
    of one shared by all cameras.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        """Load the detector and the models; `cache_dir` keeps a fast-loading copy of the
        detector. Raises ModelsMissing when a model is missing or unreadable."""
        self._detector = load_detector(cache_dir)
        # Loaded now, not at the first face: a damaged model file must stop the
        # start, not fail silently in a camera thread hours later.
        self._shapes = _load(dlib.shape_predictor, model_path(SHAPE_MODEL))
        self._net = _load(dlib.face_recognition_model_v1, model_path(EMBED_MODEL))
        # dlib objects are not documented thread-safe; one lock keeps two
        # cameras from sharing a network at the same instant.
        self._lock = threading.Lock()

    def detect(
        self,
        image: npt.NDArray[np.uint8],
        min_face_px: int,
        regions: list[tuple[Box, int]] | None = None,
    ) -> list[Box]:
        """Boxes of faces at least about `min_face_px` tall, in source pixels.

        `image` is grey (preferred: the Y plane of a decoded frame) or RGB.
        `regions` limits the search to (box, smallest face) pairs; None searches
        the whole frame for faces of `min_face_px`. The HOG detector sees faces
        of about HOG_WINDOW_PX and up, so each region is scaled to make its
        smallest face land on that window: smaller than the source when only big
        faces matter (much cheaper), larger when small ones do.
        """
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        height, width = grey.shape[:2]
        boxes: list[Box] = []
        for (top, right, bottom, left), smallest in regions or [
            (Box(0, width, height, 0), min_face_px)
        ]:
            scale = HOG_WINDOW_PX / float(smallest)
            crop = grey[top:bottom, left:right]
            if abs(scale - 1.0) > 0.02:
                interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
                crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interp)
            with self._lock:
                rects = self._detector(crop, 0)
            for r in rects:
                box = Box(
                    top + round(r.top() / scale),
                    left + round(r.right() / scale),
                    top + round(r.bottom() / scale),
                    left + round(r.left() / scale),
                ).clamped(width, height)
                if box.height > 0 and box.width > 0 and not _seen(box, boxes):
                    boxes.append(box)
        return boxes

    def embed(self, rgb: RGBImage, boxes: list[Box]) -> Embeddings:
        """128-d embeddings of the faces at `boxes`, computed on the full-resolution frame."""
        return self.embed_faces(rgb, boxes)[0]

    def embed_faces(self, rgb: RGBImage, boxes: list[Box]) -> tuple[Embeddings, Landmarks]:
        """Embeddings of the faces at `boxes` and the 5 landmarks each was aligned on.

        The landmarks come free (the embedding needs them) and tell the look's pose.
        """
        if not boxes:
            return np.empty((0, EMBEDDING_SIZE)), np.empty((0, LANDMARK_POINTS, 2))
        image = np.ascontiguousarray(rgb)  # dlib wants contiguous RGB
        with self._lock:
            shapes = dlib.full_object_detections()
            for top, right, bottom, left in boxes:
                shapes.append(self._shapes(image, dlib.rectangle(left, top, right, bottom)))
            vectors = self._net.compute_face_descriptor(image, shapes)
        points = np.asarray(
            [[(s.part(i).x, s.part(i).y) for i in range(LANDMARK_POINTS)] for s in shapes],
            dtype=np.float64,
        )
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float64), points
