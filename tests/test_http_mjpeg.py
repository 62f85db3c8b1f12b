"""An HTTP MJPEG camera (multipart JPEG frames, as cheap IP cameras serve them).

The pictures are raw to watcher: it decodes them, analyses them and encodes them
to H.264 once, at the source, so its clips stay MP4 that browsers play.
"""

from __future__ import annotations

import signal
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
