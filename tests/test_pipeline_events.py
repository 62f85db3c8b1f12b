"""The event logic of one camera's pipeline under the two threads' timing.

The face engine here is a stub (a face in every bright frame): the test is about
the pipeline's bookkeeping between capture and analysis, not about dlib, which
the replay and daemon tests exercise for real. Packets are real H.264 from the
real encoder; clips, snapshots and the SQLite store are real.
"""

from __future__ import annotations

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
    tmp_path: Path, writer: StoreWriter, finished: list[FinishedEvent], **record: float
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
    )


def test_a_frame_analysed_after_the_stream_dropped_starts_no_event(
    tmp_path: Path, writer: StoreWriter
) -> None:
    finished: list[FinishedEvent] = []
    pipeline = make_pipeline(tmp_path, writer, finished)
    feed = Feed(pipeline)
    for _ in range(5):
        pipeline.analyse(feed.frame(face=True))
    assert pipeline.event is not None
    stale = feed.frame(face=True)
    pipeline.end_stream()  # the capture thread loses the camera...
    assert len(finished) == 1 and pipeline.event is None
    pipeline.analyse(stale)  # ...while the analysis thread was on this frame
    assert pipeline.event is None, "an event opened on a dead stream"
    # Back again: the stranger is judged afresh, and recorded again.
    pipeline.start_stream(StreamInfo("h264", 320, 320, FPS))
    pipeline.analyse(feed.frame(face=True))
    assert pipeline.event is None  # one frame is not enough to confirm
    pipeline.analyse(feed.frame(face=True))
    assert pipeline.event is not None
    pipeline.end_stream()
    assert len(finished) == 2


def test_a_lagging_analysis_does_not_split_one_visit(tmp_path: Path, writer: StoreWriter) -> None:
    finished: list[FinishedEvent] = []
    pipeline = make_pipeline(tmp_path, writer, finished, post_capture_s=0)
    feed = Feed(pipeline)
    frames = [feed.frame(face=True) for _ in range(3)]
    for frame in frames:
        pipeline.analyse(frame)
    assert pipeline.event is not None
    # Capture runs two seconds ahead of the analysis (a slow machine).
    backlog = [feed.frame(face=True) for _ in range(20)]
    assert pipeline.event is not None and not finished, "closed before analysis caught up"
    for frame in backlog[::4]:
        pipeline.analyse(frame)
    # The visitor leaves; the analysis sees it; then the clip ends.
    for _ in range(5):
        pipeline.analyse(feed.frame(face=False))
    feed.frame(face=False)
    assert len(finished) == 1, [(e.start_s, e.end_s) for e in finished]
    assert finished[0].end_s >= backlog[-1].t
