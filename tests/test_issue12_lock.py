"""Issue 12, defect 6: one `watcher run` per recordings folder.

Two daemons on one config both ran: every visit was recorded twice, and the
second one's start-up recovery closed the first one's live event as interrupted.
Now `watcher run` takes an exclusive lock (recordings/watcher.lock, flock, with
its pid) before anything else; a second one exits 1 with one line naming the
first one's pid, and a crashed daemon's lock is gone with its process.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import ROOT, VIDEO

SECOND_RUN_S = 60.0


def second_run(config: Path) -> subprocess.CompletedProcess[str]:
    """Another real `watcher run` on the same config, bounded in time."""
    return subprocess.run(
        [sys.executable, "-m", "watcher", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=SECOND_RUN_S,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )


def lock_is_free(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # drops it again if taken
    return True


@pytest.mark.timeout(240)
def test_a_second_daemon_exits_naming_the_first_and_leaves_its_event_alone(
    tmp_path: Path,
) -> None:
    # noface_face.mp4: a man from ~4.0 s to 6.36 s, an event the first daemon records.
    config = write_config(
        tmp_path, source=str(VIDEO / "noface_face.mp4"), extra="status_interval_s: 0\n"
    )
    recordings = tmp_path / "recordings"
    with Daemon(config) as first:
        first.wait_for(r"watching 1 camera\(s\)", timeout=60)
        lock = recordings / "watcher.lock"
        assert lock.read_text().strip() == str(first.proc.pid)
        opened = first.wait_for(EVENT_OPENED, timeout=60)
        second = second_run(config)  # while the first one's event is open
        assert second.returncode == 1, second.stderr
        lines = second.stderr.strip().splitlines()
        assert lines == [
            f"watcher: another watcher is already running on {recordings} (pid {first.proc.pid})"
        ], second.stderr
        assert second.stdout == ""
        first.wait_for(rf"event {opened.group(1)}: ended after", timeout=30)
        assert first.stop(signal.SIGTERM) == 0
    # The first daemon's event ended as it should, once: no recovery closed it.
    rows = events(config)
    assert [r["status"] for r in rows] == ["closed"], rows
    assert not [line for line in first.lines if "left open by an earlier crash" in line]
    # A clean exit releases the lock and clears the pid.
    assert lock_is_free(lock) and lock.read_text() == ""


@pytest.mark.timeout(240)
def test_a_killed_daemon_leaves_no_stale_lock(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, source=str(VIDEO / "no_face.mp4"), extra="status_interval_s: 0\n"
    )
    with Daemon(config) as crashed:
        crashed.wait_for(r"watching 1 camera\(s\)", timeout=60)
        assert crashed.stop(signal.SIGKILL) == -signal.SIGKILL
    lock = tmp_path / "recordings" / "watcher.lock"
    assert lock.read_text().strip() == str(crashed.proc.pid)  # its pid is still written...
    with Daemon(config) as after:  # ...but the lock died with it
        after.wait_for(r"watching 1 camera\(s\)", timeout=60)
        assert lock.read_text().strip() == str(after.proc.pid)
        assert after.stop(signal.SIGTERM) == 0
