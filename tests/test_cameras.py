"""Several cameras in one daemon: a dead one never stalls a live one; status shows both."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.support.cli import watcher, write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import VIDEO


@pytest.mark.timeout(120)
def test_live_camera_records_while_another_is_dead_and_status_shows_both(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        source=str(VIDEO / "noface_face.mp4"),
        extra=(
            "    loop: true\n"
            "    faces: {analyse_fps: 4}\n"
            "  porch:\n"
            f"    source: {tmp_path / 'not-there.mp4'}\n"
            "status_interval_s: 0\n"
        ),
    )
    with Daemon(config) as daemon:
        daemon.wait_for(r"watcher.capture.porch: cannot open .*not-there.mp4.*retrying", 30)
        opened = daemon.wait_for(r"watcher.camera.cam: " + EVENT_OPENED, 40)
        # The file loops: its second pass (after 6.4 s) is still watched.
        daemon.wait_for(r"watcher.camera.cam: event \w+: ended after", 20)
        second = daemon.wait_for(
            r"watcher.camera.cam: event (?!" + opened.group(1) + r")\w+: unknown", 20
        )
        assert second
        daemon.proc.send_signal(signal.SIGUSR1)
        daemon.wait_for(r"status cam: connected since .* analysed [\d.]+ fps", 10)
        line = daemon.wait_for(r"status porch: DISCONNECTED since", 10)
        assert line
        done = watcher("status", "--json", "-c", str(config), timeout=30)
        assert done.returncode == 0, done.stderr
        cams = {c["camera"]: c for c in json.loads(done.stdout)["cameras"]}
        assert cams["cam"]["connected"] and not cams["porch"]["connected"]
        assert daemon.stop(signal.SIGTERM) == 0
    # "porch" was only ever reported once, not once per retry.
    assert sum("cannot open" in line for line in daemon.lines) == 1
    rows = events(config)
    assert len(rows) >= 2 and {r["camera"] for r in rows} == {"cam"}
    assert all(r["ended_at"] is not None for r in rows)
