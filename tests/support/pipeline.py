"""A camera pipeline fed real encoded frames, with a stub face engine (a face in every
bright frame): for tests of the pipeline's bookkeeping, not of dlib."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from tests.support.decide import frontal_landmarks
from watcher.config import CameraConfig
from watcher.constants import EMBEDDING_SIZE
from watcher.core import Box
from watcher.faces.gallery import Gallery
from watcher.pipeline.camera import CameraPipeline
from watcher.pipeline.events import FinishedEvent
from watcher.source.base import Frame, StreamInfo
from watcher.source.encoder import RawEncoder
from watcher.store import StoreWriter

FPS = 10
FACE: Box = (100, 300, 300, 100)


# Blocks of 20 px: sharp edges and contrast that survive the quality check's 64 px.
_TEXTURE = np.kron(
    np.random.default_rng(7).integers(130, 255, (10, 10, 1), dtype=np.uint8),
    np.ones((20, 20, 1), np.uint8),
)


class StubEngine:
    """Sees one face in every frame brighter than mid-grey."""

    def detect(self, image: np.ndarray, min_face_px: int, regions: object = None) -> list[Box]:
        return [FACE] if float(image.mean()) > 128 else []

    def embed(self, rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
        return np.full((len(boxes), EMBEDDING_SIZE), 0.1)

    def embed_faces(self, rgb: np.ndarray, boxes: list[Box]) -> tuple[np.ndarray, np.ndarray]:
        return self.embed(rgb, boxes), np.asarray([frontal_landmarks(b) for b in boxes])


class Feed:
    """Real encoded frames for a pipeline, bright (a face) or dark (nobody)."""

    def __init__(self, pipeline: CameraPipeline) -> None:
        self.pipeline = pipeline
        self.encoder = RawEncoder(320, 320, FPS)
        self.i = 0
        pipeline.start_stream(StreamInfo("h264", 320, 320, FPS))

    def frame(self, face: bool) -> Frame:
        """Encode and buffer the next frame; return it for analysis (not analysed yet)."""
        t = self.i / FPS
        self.i += 1
        picture = np.full((320, 320, 3), 200 if face else 40, np.uint8)
        if face:  # textured, so the stub's face is a sharp, lit look
            top, right, bottom, left = FACE
            picture[top:bottom, left:right] = _TEXTURE
        image = av.VideoFrame.from_ndarray(picture, format="rgb24")
        self.pipeline.on_packets(self.encoder.encode(image, t))
        return Frame(image, t)


def make_pipeline(
    tmp_path: Path,
    writer: StoreWriter,
    finished: list[FinishedEvent],
    may_record: Callable[[], bool] | None = None,
    **record: float,
) -> CameraPipeline:
    camera = CameraConfig(
        name="cam",
        source="demo",
        faces={"confirm_frames": 2, "embeddings_per_s": FPS},  # every frame fed is analysed
        record={"pre_capture_s": 1, "post_capture_s": 0.5, **record},
    )
    return CameraPipeline(
        camera,
        tmp_path / "rec",
        StubEngine(),
        Gallery,
        writer,
        on_finished=finished.append,  # type: ignore[arg-type]
        may_record=may_record,
    )
