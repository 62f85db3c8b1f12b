"""Core types shared by every layer, free of dlib: boxes, images, embeddings, the engine's shape.

Everything below the face engine (motion, decide, record) and above it (pipeline,
CLI) speaks these types; only `watcher/faces/engine.py` imports dlib.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from watcher.constants import EMBEDDING_SIZE

__all__ = [
    "EMBEDDING_SIZE",
    "Box",
    "Embeddings",
    "FaceEngine",
    "GreyImage",
    "Landmarks",
    "RGBImage",
]

LANDMARK_POINTS = 5  # dlib's 5-point model: two corners of each eye, the base of the nose

Embeddings = npt.NDArray[np.float64]  # (n, 128) rows, or one (128,) vector
Landmarks = npt.NDArray[np.float64]  # (n, 5, 2) points (x, y) in source pixels
RGBImage = npt.NDArray[np.uint8]  # (h, w, 3), contiguous for dlib
GreyImage = npt.NDArray[np.uint8]  # (h, w)


class Box(NamedTuple):
    """A face box in face_recognition's order, (top, right, bottom, left), in source pixels."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.right - self.left

    @property
    def area(self) -> int:
        """Area in square pixels (0 for an empty box)."""
        return max(0, self.height) * max(0, self.width)

    @property
    def centre(self) -> tuple[float, float]:
        """(y, x) of the centre."""
        return (self.top + self.bottom) / 2, (self.left + self.right) / 2

    def intersection(self, other: tuple[int, int, int, int]) -> int:
        """Area shared with another box."""
        top, bottom = max(self[0], other[0]), min(self[2], other[2])
        left, right = max(self[3], other[3]), min(self[1], other[1])
        return max(0, bottom - top) * max(0, right - left)

    def iou(self, other: tuple[int, int, int, int]) -> float:
        """Intersection over union."""
        inter = self.intersection(other)
        union = self.area + Box(*other).area - inter
        return inter / union if union > 0 else 0.0

    def overlap_of_smaller(self, other: tuple[int, int, int, int]) -> float:
        """Intersection as a share of the smaller box (1.0: one lies inside the other)."""
        smaller = min(self.area, Box(*other).area)
        return self.intersection(other) / smaller if smaller > 0 else 0.0

    def grown(self, by: int) -> Box:
        """The box with `by` pixels added on each side (not clamped)."""
        return Box(self.top - by, self.right + by, self.bottom + by, self.left - by)

    def clamped(self, width: int, height: int) -> Box:
        """The box cut to a frame of `width` x `height`."""
        return Box(
            max(0, self.top), min(width, self.right), min(height, self.bottom), max(0, self.left)
        )


def box_height(box: tuple[int, int, int, int]) -> int:
    """Height in pixels of a (top, right, bottom, left) box, plain tuple or Box."""
    return box[2] - box[0]


class FaceEngine(Protocol):
    """What the pipeline needs of a face engine; the real one is `watcher.faces.engine`."""

    def detect(
        self,
        image: npt.NDArray[np.uint8],
        min_face_px: int,
        regions: list[tuple[Box, int]] | None = None,
    ) -> list[Box]:
        """Boxes of faces at least about `min_face_px` tall (grey or RGB image)."""
        ...

    def embed(self, rgb: RGBImage, boxes: list[Box]) -> Embeddings:
        """128-d embeddings of the faces at `boxes`."""
        ...

    def embed_faces(self, rgb: RGBImage, boxes: list[Box]) -> tuple[Embeddings, Landmarks]:
        """Embeddings and the 5 landmarks they were aligned on, for each box."""
        ...
