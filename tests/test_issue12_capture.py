"""Issue 12, defect 2: an unexpected error does not kill a camera's capture thread.

An HTTP MJPEG camera whose first part is a degenerate picture (1x1: no real
frame) made the raw encoder raise av.error.ArgumentError inside source.open();
it was not a SourceError, nothing caught it, the capture thread died and
nothing more was logged. Now such a picture is a failed attempt like a refused
connection, and any error no source expects is logged once with its traceback
and retried with the usual backoff.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import av
import cv2
import numpy as np
import pytest

from tests.support.cli import write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import VIDEO, playable_seconds
from tests.support.mjpeg import MjpegCamera
from watcher.pipeline import live
from watcher.pipeline.clock import MediaClock
from watcher.pipeline.live import CameraRunner
from watcher.source.av_source import AVSource
from watcher.source.base import Chunk, Frame, Packet, StreamInfo

SCENE = VIDEO / "noface_face.mp4"  # no face until ~4.0 s, then a man until 6.36 s
SECRET = "hunter2"


def tiny_jpeg() -> bytes:
    """A JPEG of one pixel: a broken camera's part that holds no real picture."""
    ok, data = cv2.imencode(".jpg", np.zeros((1, 1, 3), np.uint8))
    assert ok
    return bytes(data.tobytes())


@pytest.mark.timeout(150)
def test_a_bad_first_mjpeg_part_is_retried_and_the_camera_keeps_recording(tmp_path: Path) -> None:
    with MjpegCamera(SCENE, first_part=tiny_jpeg()) as camera:
        config = write_config(tmp_path, source=camera.url, extra="status_interval_s: 0\n")
        with Daemon(config) as daemon:
            failed = daemon.wait_for(r"WARNING watcher\.capture\.cam: (.*); retrying", timeout=60)
            assert "1x1" in failed.group(1), failed.group(0)
            daemon.wait_for(r"camera back after \d+ s", timeout=30)
            daemon.wait_for(r"connected to http://127\.0\.0\.1:\d+/stream\.mjpg \(h264 ", 10)
            # The pictures after the bad part are analysed: the man is seen and recorded.
            opened = daemon.wait_for(EVENT_OPENED, timeout=60)
            daemon.wait_for(rf"event {opened.group(1)}: ended after", timeout=30)
            assert daemon.stop(signal.SIGTERM) == 0
        assert camera.connections >= 2
    failures = [line for line in daemon.lines if "retrying" in line or "reconnecting" in line]
    assert len(failures) == 1, failures
    assert not [line for line in daemon.lines if "Traceback" in line]
    rows = [r for r in events(config) if r["id"] == opened.group(1)]
    assert rows and rows[0]["status"] == "closed"
    assert playable_seconds(rows[0]["clip"]) >= 2.0


# --- the capture loop itself, against errors no source expects ---------------------------


class RecordingPipeline:
    """What CameraRunner drives, reduced to a record of the calls it gets.

    The capture loop is under test, not face analysis: the packets and frames come
    from a real AVSource reading a real file.
    """

    def __init__(self) -> None:
        self.name = "cam"
        self.camera = SimpleNamespace(faces=SimpleNamespace(analyse_fps=25))
        self.clock = MediaClock()
        self.streams = 0
        self.ended = 0
        self.packets: list[Packet] = []
        self.analysed: list[tuple[int, Frame]] = []  # (connection, frame)
        self.recorder = SimpleNamespace(start=lambda: None)  # no event is ever recorded here

    def start_stream(self, info: StreamInfo) -> None:
        self.streams += 1

    def end_stream(self) -> None:
        self.ended += 1

    def close(self, timeout_s: float = 10.0) -> bool:
        return True

    def on_packets(self, packets: list[Packet]) -> None:
        self.packets.extend(packets)

    def analyse(self, frame: Frame) -> None:
        self.analysed.append((self.streams, frame))

    def offered(self, t: float) -> None:
        pass  # when a frame went toward analysis: only the event logic reads it

    def passed(self, t: float) -> None:
        pass

    def analysed_in(self, connection: int) -> int:
        return sum(n == connection for n, _ in self.analysed)


class FaultySource(AVSource):
    """The real file source, with an error no source expects where the test says.

    `fail_open`: the first open() raises what FFmpeg raises on a bad argument (its
    message carries the URL, password and all); `fail_read`: the first connection's
    reading raises a plain bug after a few packets.
    """

    def __init__(self, *, fail_open: bool = False, fail_read: bool = False) -> None:
        super().__init__(str(SCENE), paced=True)
        self.fail_open, self.fail_read = fail_open, fail_read
        self.opens = 0

    def open(self) -> StreamInfo:
        self.opens += 1
        if self.fail_open and self.opens == 1:
            raise av.error.ArgumentError(22, "Invalid argument", f"rtsp://admin:{SECRET}@cam/x")
        return super().open()

    def chunks(self) -> Iterator[Chunk]:
        for i, chunk in enumerate(super().chunks()):
            if self.fail_read and self.opens == 1 and i == 10:
                raise KeyError("a bug in the middle of a stream")
            yield chunk


def run_until(runner: CameraRunner, done: Callable[[], bool], timeout: float) -> bool:
    """Run the runner until `done()` holds, at most `timeout` seconds, then stop it.

    Whether its capture thread was still alive then.
    """
    runner.start()
    try:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
        return runner._threads[0].is_alive()
    finally:
        runner.stop()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["open", "read"])
def test_an_unexpected_error_is_logged_once_and_the_camera_reconnects(
    where: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RETRY_FIRST_S", 0.2)  # the backoff's shape, not its length
    source = FaultySource(fail_open=where == "open", fail_read=where == "read")
    pipeline = RecordingPipeline()
    runner = CameraRunner(pipeline, source)  # type: ignore[arg-type]
    # The connection after the error: the first one that works, or the second.
    after = 1 if where == "open" else 2
    with caplog.at_level(logging.DEBUG, logger="watcher.capture.cam"):
        alive = run_until(runner, lambda: pipeline.analysed_in(after) >= 25, timeout=20)
    assert alive, "the capture thread died"
    assert source.opens == 2, source.opens
    # Frames of the connection after the error reached analysis.
    assert pipeline.analysed_in(after) >= 25, pipeline.analysed_in(after)
    assert pipeline.ended >= pipeline.streams == after
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    text = errors[0].getMessage()
    assert "reconnecting" in text and "Traceback (most recent call last)" in text, text
    kind = "ArgumentError" if where == "open" else "KeyError"
    assert kind in text, text
    assert SECRET not in caplog.text
    assert any("camera back after" in r.getMessage() for r in caplog.records)
