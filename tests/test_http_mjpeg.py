"""An HTTP MJPEG camera (multipart JPEG frames, as cheap IP cameras serve them).

The pictures are raw to watcher: it decodes them, analyses them and encodes them
to H.264 once, at the source, so its clips stay MP4 that browsers play.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.support.cli import write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import VIDEO, playable_seconds
from tests.support.mjpeg import MjpegCamera


@pytest.fixture
def mjpeg_url() -> Iterator[str]:
    """A real HTTP server on loopback streaming noface_face.mp4 as MJPEG, looping, at 25 fps."""
    with MjpegCamera(VIDEO / "noface_face.mp4") as camera:
        yield camera.url


@pytest.mark.timeout(120)
def test_an_http_mjpeg_camera_is_watched_and_recorded_as_h264(
    tmp_path: Path, mjpeg_url: str
) -> None:
    config = write_config(tmp_path, source=mjpeg_url)
    with Daemon(config) as daemon:
        daemon.wait_for(r"connected to http://127\.0\.0\.1:\d+/stream\.mjpg \(h264 ", 60)
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        daemon.wait_for(rf"event {opened.group(1)}: ended after", timeout=30)
        assert daemon.stop(signal.SIGTERM) == 0
    rows = [r for r in events(config) if r["id"] == opened.group(1)]
    assert rows and rows[0]["status"] == "closed"
    clip = str(rows[0]["clip"])
    with av.open(clip) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert playable_seconds(clip) >= 2.0


@pytest.mark.timeout(60)
def test_an_mjpeg_camera_slower_than_25_fps_is_timed_by_the_clock() -> None:
    # Multipart MJPEG carries no times: a 10 fps camera must not run at 25 fps of
    # media time (its events would drift ever earlier, its clips play 2.5x fast).
    from watcher.source.av_source import AVSource

    with MjpegCamera(VIDEO / "single_face.mp4", fps=10) as camera:
        source = AVSource(camera.url)
        source.open()
        try:
            started, times = time.monotonic(), []
            for chunk in source.chunks():
                times += [frame.t for frame in chunk.frames]
                if time.monotonic() - started > 3.0:
                    break
            wall = time.monotonic() - started
        finally:
            source.close()
    span = times[-1] - times[0]
    assert abs(span - wall) < 0.5, (span, wall)  # media time keeps the clock's pace
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert 20 <= len(times) <= 40  # about 10 pictures a second
