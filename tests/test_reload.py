"""A running daemon takes new photos and a new config without a restart (and refuses a bad one)."""

from __future__ import annotations

import signal
from pathlib import Path

import av
import cv2
import pytest

from tests.support.cli import write_config
from tests.support.daemon import EVENT_OPENED, Daemon
from tests.support.media import VIDEO

FACE_VIDEO = VIDEO / "noface_face.mp4"  # no face until about 4 s, then the same man


def save_frame(video: Path, at_s: float, dest: Path) -> Path:
    """Save the frame shown at `at_s` as a JPEG (a photo of whoever is in it)."""
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at_s:
                dest.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(dest), frame.to_ndarray(format="bgr24"))
                return dest
    raise AssertionError(f"{video} has no frame at {at_s} s")


@pytest.mark.timeout(150)
def test_a_photo_added_while_running_makes_the_stranger_known(tmp_path: Path) -> None:
    config = write_config(tmp_path, source=str(FACE_VIDEO), extra="    loop: true\n")
    with Daemon(config) as daemon:
        daemon.wait_for(EVENT_OPENED, timeout=60)
        save_frame(FACE_VIDEO, 5.0, tmp_path / "known_faces" / "visitor" / "door.jpg")
        daemon.wait_for(r"gallery reloaded: visitor: 1 image, 1 new", timeout=30)
        reloaded_at = len(daemon.lines)
        # Two more passes of the 6.4 s file: he shows up twice more, now known.
        for _ in range(2):
            daemon.wait_for(r"connected to .*noface_face", timeout=20, since=len(daemon.lines))
        daemon.wait_for(r"connected to .*noface_face", timeout=20, since=len(daemon.lines))
        later = daemon.lines[reloaded_at:]
        assert not [line for line in later if "unknown face at" in line], later
        assert daemon.stop(signal.SIGTERM) == 0


@pytest.mark.timeout(150)
def test_sighup_refuses_a_broken_config_and_applies_a_good_one(tmp_path: Path) -> None:
    config = write_config(tmp_path, source="demo")
    good = config.read_text()
    with Daemon(config) as daemon:
        daemon.wait_for(r"connected to demo scene", timeout=60)
        config.write_text(good.replace("  tolerance: 0.6", "  tolerance: lots"))
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for(r"reload refused, keeping the running config: .*:5: faces.tolerance", 15)
        assert daemon.proc.poll() is None
        config.write_text(good + f"  door:\n    source: {FACE_VIDEO}\n    loop: true\n")
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for(r"config reloaded: 2 camera\(s\)", timeout=15)
        daemon.wait_for(r"watcher.camera.door: " + EVENT_OPENED, timeout=30)
        assert daemon.stop(signal.SIGTERM) == 0
