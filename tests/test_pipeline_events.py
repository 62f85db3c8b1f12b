"""The event logic of one camera's pipeline under the two threads' timing.

The face engine here is a stub (a face in every bright frame): the test is about
the pipeline's bookkeeping between capture and analysis, not about dlib, which
the replay and daemon tests exercise for real. Packets are real H.264 from the
real encoder; clips, snapshots and the SQLite store are real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.pipeline import FPS, Feed, StubEngine, make_pipeline
from watcher.config import CameraConfig
from watcher.core import Box
from watcher.faces.gallery import Gallery
from watcher.pipeline.camera import EVERY_FRAME_HOLD_S, CameraPipeline
from watcher.pipeline.events import FinishedEvent
from watcher.source.base import StreamInfo
from watcher.store import StoreWriter


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


def test_a_disarmed_camera_that_must_not_record_opens_no_event_until_armed_again(
    tmp_path: Path, writer: StoreWriter
) -> None:
    armed = False
    finished: list[FinishedEvent] = []
    pipeline = make_pipeline(tmp_path, writer, finished, may_record=lambda: armed)
    feed = Feed(pipeline)
    for _ in range(5):
        pipeline.analyse(feed.frame(face=True))
    assert pipeline.event is None  # a confirmed stranger, but disarmed: no event
    armed = True
    pipeline.analyse(feed.frame(face=True))
    assert pipeline.event is not None  # armed again while he is in view: recorded
    pipeline.end_stream()
    assert pipeline.close()
    (event,) = finished
    assert event.clip is not None and event.decision and "unknown" in event.decision


def test_a_face_lost_holds_every_frame_decoding_from_when_it_was_last_seen(
    tmp_path: Path, writer: StoreWriter
) -> None:
    camera = CameraConfig(
        name="cam",
        source="demo",
        decoding="limited",
        motion={"enabled": False},  # only the face holds every frame: no motion to see
        faces={"confirm_frames": 2, "embeddings_per_s": FPS},
    )
    pipeline = CameraPipeline(camera, tmp_path / "rec", StubEngine(), Gallery, writer)
    assert pipeline.limiter is not None
    feed = Feed(pipeline)
    for _ in range(5):  # a face, last seen at 0.4 s
        pipeline.analyse(feed.frame(face=True))
    (track,) = pipeline.decider.tracks
    seen = track.last_t
    assert seen == pytest.approx(0.4)
    while feed.i / FPS < seen + 1.9:  # then searched for in vain, its track kept
        pipeline.analyse(feed.frame(face=False))
    assert pipeline.decider.tracks, "the lost face's track is still kept"
    # Every frame is held EVERY_FRAME_HOLD_S from when the face was seen, not from
    # the latest search that missed it.
    assert pipeline.limiter.wants_every_frame(seen + EVERY_FRAME_HOLD_S - 0.05)
    assert not pipeline.limiter.wants_every_frame(seen + EVERY_FRAME_HOLD_S + 0.05)
    pipeline.end_stream()
    assert pipeline.close()


class _SearchLog(StubEngine):
    """The stub engine, keeping the (region, smallest face) pairs it was asked to search."""

    def __init__(self) -> None:
        self.searched: list[tuple[Box, int]] = []

    def detect(self, image: np.ndarray, min_face_px: int, regions: object = None) -> list[Box]:
        assert isinstance(regions, list)
        self.searched += regions
        return super().detect(image, min_face_px, regions)


def test_a_face_gone_past_the_tracks_timeout_is_not_searched_for_after_a_gap(
    tmp_path: Path, writer: StoreWriter
) -> None:
    # Analyses seconds apart (only keyframes decoded): the face of the last analysis
    # but one is past the tracks' timeout and is neither looked for again (at its own
    # size) nor taken to explain the motion where its body was.
    camera = CameraConfig(name="cam", source="demo", faces={"embeddings_per_s": FPS})
    engine = _SearchLog()
    pipeline = CameraPipeline(camera, tmp_path / "rec", engine, Gallery, writer)
    feed = Feed(pipeline)
    for _ in range(5):
        pipeline.analyse(feed.frame(face=True))
    (track,) = pipeline.decider.tracks
    while feed.i / FPS <= track.last_t + pipeline.decider.track_timeout_s + 0.5:
        feed.frame(face=False)  # not analysed
    engine.searched.clear()
    pipeline.analyse(feed.frame(face=False))
    smallest = camera.faces.min_face_px
    assert engine.searched, "the place the face left moved: it is searched"
    assert all(size == smallest for _, size in engine.searched), engine.searched
    assert pipeline.decider.tracks == []
    pipeline.end_stream()
    assert pipeline.close()
