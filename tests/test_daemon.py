"""`watcher run` as users run it: the demo camera, a live file source, signals."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import cv2
import pytest

from tests.support.cli import watcher, write_config
from tests.support.daemon import EVENT_ENDED, EVENT_OPENED, Daemon, events
from tests.support.media import VIDEO, playable_seconds


@pytest.mark.timeout(90)
def test_demo_records_the_visitor_and_not_the_resident(tmp_path: Path) -> None:
    from watcher.source.demo_photos import install_resident

    config = write_config(tmp_path, source="demo")
    install_resident(tmp_path / "known_faces")
    with Daemon(config) as daemon:
        daemon.wait_for(r"connected to demo scene", timeout=30)
        # The resident passes 4-11 s, the visitor 15-22 s (one 30 s period).
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        assert 14.5 <= float(opened.group(2)) <= 17.0, opened.group(0)
        assert daemon.stop(signal.SIGTERM) == 0
    rows = events(config)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["id"] == opened.group(1) and row["status"] == "closed"
    assert row["ended_at"] is not None
    assert isinstance(row["closest_distance"], float) and row["closest_distance"] > 0.6
    assert playable_seconds(row["clip"]) >= 3.0
    assert cv2.imread(str(row["snapshot"])) is not None


@pytest.mark.timeout(90)
def test_sigterm_mid_event_closes_a_playable_clip(tmp_path: Path) -> None:
    # A video file played at its own rate: the face arrives at about 4 s.
    config = write_config(tmp_path, source=str(VIDEO / "noface_face.mp4"))
    with Daemon(config) as daemon:
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        assert daemon.stop(signal.SIGTERM) == 0
    assert any(EVENT_ENDED.format(id=opened.group(1)) in line for line in daemon.lines)
    rows = events(config)
    assert [r["id"] for r in rows] == [opened.group(1)]
    assert rows[0]["status"] == "closed" and rows[0]["ended_at"] is not None
    # Pre-roll from before the arrival is in the clip.
    assert playable_seconds(rows[0]["clip"]) >= 2.5


@pytest.mark.timeout(150)
def test_sigkill_mid_event_is_recovered_at_the_next_start(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    config = write_config(tmp_path, source=str(VIDEO / "noface_face.mp4"))
    with Daemon(config) as daemon:
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        time.sleep(1.5)  # some fragments of the clip reach the disk
        daemon.proc.kill()
        daemon.proc.wait(10)
    (row,) = events(config)
    assert row["id"] == opened.group(1) and row["status"] == "open" and row["ended_at"] is None

    db = watcher("db", "current", "-c", str(config))
    assert db.returncode == 0 and "revision" in db.stdout
    with Daemon(config) as daemon:
        daemon.wait_for(r"closed 1 event\(s\) left open by an earlier crash", timeout=60)
        assert daemon.stop(signal.SIGTERM) == 0
    rows = {r["id"]: r for r in events(config)}
    row = rows[opened.group(1)]
    assert row["status"] == "interrupted"
    started = datetime.fromisoformat(str(row["started_at"]))
    ended = datetime.fromisoformat(str(row["ended_at"]))
    # The clip began 3 s before the arrival and reached the disk for about 1.5 s more:
    # fragments close every 0.5 s, so the row ends past its start, not at it.
    assert timedelta(seconds=0.5) <= ended - started <= timedelta(seconds=3)
    assert playable_seconds(row["clip"]) >= 2.5
