"""`watcher replay` run in this process, its face engine timed: what HOG and embeddings cost.

The replay JSON's `searched_pixels` counts the regions in source pixels; the
detector then scales each region so its smallest face lands on dlib's window
(much smaller around a big tracked face). The engine here is watcher's own,
wrapped: it counts the pixels actually handed to dlib, and the CPU time of every
detect and embed call (`time.thread_time`: the call runs in the replay's thread).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from watcher.constants import HOG_WINDOW_PX
from watcher.core import Box, Embeddings, FaceEngine, Landmarks, RGBImage


@dataclass
class FaceTimes:
    """What the face engine did and cost in one replay."""

    hog_px: float = 0.0  # pixels handed to dlib's HOG detector, after its scaling
    hog_s: float = 0.0
    detect_calls: int = 0
    embeddings: int = 0
    embed_s: float = 0.0


class TimedEngine:
    """watcher's face engine with every call counted and timed (a FaceEngine itself)."""

    def __init__(self, engine: FaceEngine) -> None:
        """Wrap `engine`."""
        self._engine = engine
        self.times = FaceTimes()

    def detect(
        self,
        image: npt.NDArray[np.uint8],
        min_face_px: int,
        regions: list[tuple[Box, int]] | None = None,
    ) -> list[Box]:
        """The engine's detect, counted and timed."""
        height, width = image.shape[:2]
        for (top, right, bottom, left), smallest in regions or [
            (Box(0, width, height, 0), min_face_px)
        ]:
            # As the engine scales each region (watcher/faces/engine.py).
            scale = HOG_WINDOW_PX / float(smallest)
            self.times.hog_px += round((bottom - top) * scale) * round((right - left) * scale)
        start = time.thread_time()
        boxes = self._engine.detect(image, min_face_px, regions)
        self.times.hog_s += time.thread_time() - start
        self.times.detect_calls += 1
        return boxes

    def embed(self, rgb: RGBImage, boxes: list[Box]) -> Embeddings:
        """The engine's embed, counted and timed."""
        return self.embed_faces(rgb, boxes)[0]

    def embed_faces(self, rgb: RGBImage, boxes: list[Box]) -> tuple[Embeddings, Landmarks]:
        """The engine's embed_faces, counted and timed."""
        start = time.thread_time()
        out = self._engine.embed_faces(rgb, boxes)
        self.times.embed_s += time.thread_time() - start
        self.times.embeddings += len(boxes)
        return out


@dataclass
class InprocReplay:
    """One in-process replay: its JSON, the replay thread's CPU and the engine's share."""

    doc: dict[str, Any]
    thread_s: float  # the replay's thread: demux, decode, motion, planner, faces, events
    process_s: float  # the whole process meanwhile (the store's writer thread too)
    faces: FaceTimes


def replay_here(config: Path, video: Path) -> InprocReplay:
    """`watcher replay VIDEO -c CONFIG` in this process, with the engine timed."""
    from watcher.cli.common import faces_and_gallery, store
    from watcher.config.loader import load_config
    from watcher.pipeline.replay import replay

    cfg = load_config(config)
    camera = next(iter(cfg.cameras.values()))
    engine, gallery = faces_and_gallery(cfg)
    timed = TimedEngine(engine)
    for suffix in ("", "-wal", "-shm"):
        (config.parent / f"watcher.db{suffix}").unlink(missing_ok=True)
    with store(cfg) as (writer, _db):
        thread0, process0 = time.thread_time(), time.process_time()
        doc = replay(cfg, camera, video, timed, gallery, writer)
        thread_s = time.thread_time() - thread0
        writer.flush()
        process_s = time.process_time() - process0
    return InprocReplay(doc, thread_s, process_s, timed.times)
