"""The detector pool: cameras analysing at once use different engines, with the same answers."""

from __future__ import annotations

import threading
import time

import numpy as np

from tests.support.media import FACES
from watcher.core import Box
from watcher.faces import open_engine
from watcher.faces.gallery import read_rgb
from watcher.faces.pool import EnginePool

WAIT_S = 20.0


class SlowEngine:
    """Takes 0.2 s a call and notes how many calls ran on it at once."""

    def __init__(self, busy: list[int]) -> None:
        self.busy = busy
        self.inside = 0

    def detect(self, image: object, min_face_px: int, regions: object = None) -> list[Box]:
        self.inside += 1
        self.busy.append(self.inside)
        time.sleep(0.2)
        self.inside -= 1
        return []

    def embed(self, rgb: object, boxes: list[Box]) -> np.ndarray:
        return np.empty((0, 128))

    def embed_faces(self, rgb: object, boxes: list[Box]) -> tuple[np.ndarray, np.ndarray]:
        return np.empty((0, 128)), np.empty((0, 5, 2))


def test_two_cameras_at_once_use_two_engines_and_never_share_one() -> None:
    busy: list[int] = []
    engines = [SlowEngine(busy), SlowEngine(busy)]
    pool = EnginePool(iter(engines).__next__, 2)  # type: ignore[arg-type]
    grey = np.zeros((10, 10), np.uint8)
    started = time.monotonic()
    threads = [threading.Thread(target=pool.detect, args=(grey, 60)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    elapsed = time.monotonic() - started
    assert max(busy) == 1  # one call at a time on each engine
    assert 0.35 <= elapsed < 0.75  # four calls of 0.2 s on two engines: two rounds


def test_a_pool_of_real_engines_finds_and_embeds_as_one_engine() -> None:
    rgb = read_rgb(FACES / "obama_1.jpg")
    one = open_engine()
    pool = open_engine(detectors=2)
    assert isinstance(pool, EnginePool) and pool.size == 2
    boxes = one.detect(rgb, 60)
    assert boxes and pool.detect(rgb, 60) == boxes
    assert np.allclose(pool.embed(rgb, boxes), one.embed(rgb, boxes))
