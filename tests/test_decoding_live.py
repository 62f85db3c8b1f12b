"""Limited decoding live: a real RTSP camera on loopback and the real daemon."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.rtsp.harness import RtspServer, free_port, require_gst_rtsp
from tests.support.cli import watcher, write_config
from tests.support.daemon import Daemon, new_event
from tests.support.footage import compose

pytestmark = pytest.mark.gstreamer
require_gst_rtsp()


def _status(config: Path) -> dict[str, object]:
    """The camera's status the daemon last wrote ({} before its first)."""
    done = watcher("status", "--json", "-c", str(config), timeout=30)
    if done.returncode != 0:
        assert "no status" in done.stderr, done.stderr
        return {}
    cameras: list[dict[str, object]] = json.loads(done.stdout)["cameras"]
    return cameras[0]


@pytest.mark.timeout(120)
def test_a_still_camera_is_watched_on_its_keyframes_and_a_visitor_still_recorded(
    tmp_path: Path,
) -> None:
    # 12 s of a still room, a stranger walks in at 12.3 s (mid-GOP) and stays until the
    # loop's end at 24 s (while they are in view, every frame is decoded; once the room
    # is empty again, only keyframes: the status must be read while they are there).
    clip = compose(tmp_path / "room.mp4", 24.0, enter_s=12.3)
    with RtspServer(clip.path, free_port(), loop=True) as server:
        extra = "    faces: {analyse_fps: 5}\nstatus_interval_s: 2\n"
        config = write_config(tmp_path, source=server.url, extra=extra)
        with Daemon(config) as daemon:
            # Still room: keyframes only, no frame skipped.
            deadline = time.monotonic() + 30
            still: dict[str, object] = {}
            while time.monotonic() < deadline:
                time.sleep(2)
                still = _status(config)
                if still.get("decoding") == "keyframes" and float(str(still["input_fps"])) > 20:
                    break
            assert still.get("decoding") == "keyframes", still
            assert float(str(still["decoded_share"])) < 0.3, still
            assert still["frames_skipped"] == 0, still
            # The stranger: every frame again, and an event.
            daemon.wait_for(new_event(), timeout=40)
            deadline = time.monotonic() + 10  # the status is written every 2 s
            busy = _status(config)
            while busy.get("decoding") != "every frame" and time.monotonic() < deadline:
                time.sleep(0.5)
                busy = _status(config)
            assert busy["decoding"] == "every frame", busy
            assert daemon.stop(signal.SIGTERM) == 0
    assert not any("Traceback" in line for line in daemon.lines)
