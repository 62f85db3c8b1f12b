"""The detector pool: several face engines shared by every camera, one call at a time each.

dlib's detector and network are not documented thread-safe, so an engine serves
one call at a time; two cameras analysing at once need two engines. dlib
releases the interpreter lock while it computes (measured here: two threads on
two engines used 1.4 cores of CPU per second of wall time on a busy 2-core
machine), so a pool of one engine per core lets cameras analyse in parallel.
Each engine holds its own models (about 30 MB).
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from watcher.core import Box, Embeddings, FaceEngine, Landmarks, RGBImage


def default_size() -> int:
    """One engine per core this process may use, at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


class EnginePool:
    """Implements the FaceEngine protocol over `size` engines: each call takes a free one."""

    def __init__(self, make: Callable[[], FaceEngine], size: int) -> None:
        """`make` builds one engine (models loaded); `size` of them are built now."""
        if size < 1:
            raise ValueError(f"a detector pool needs at least one engine, got {size}")
        self.size = size
        self._free: queue.Queue[FaceEngine] = queue.Queue()
        for _ in range(size):
            self._free.put(make())

    @contextmanager
    def _engine(self) -> Iterator[FaceEngine]:
        engine = self._free.get()
        try:
            yield engine
        finally:
            self._free.put(engine)

    def detect(
        self,
        image: npt.NDArray[np.uint8],
        min_face_px: int,
        regions: list[tuple[Box, int]] | None = None,
    ) -> list[Box]:
        """Boxes of faces at least about `min_face_px` tall (grey or RGB image)."""
        with self._engine() as engine:
            return engine.detect(image, min_face_px, regions)

    def embed(self, rgb: RGBImage, boxes: list[Box]) -> Embeddings:
        """128-d embeddings of the faces at `boxes`."""
        with self._engine() as engine:
            return engine.embed(rgb, boxes)

    def embed_faces(self, rgb: RGBImage, boxes: list[Box]) -> tuple[Embeddings, Landmarks]:
        """Embeddings and the 5 landmarks they were aligned on, for each box."""
        with self._engine() as engine:
            return engine.embed_faces(rgb, boxes)
