"""Issue 12, defect 8: what watcher creates is 0640 (files) and 0750 (folders), whatever the umask.

Under the usual umask 022 the database (with strangers' face embeddings), clips,
snapshots, crops and status.json were 0644: only the systemd unit's UMask=0027
protected them. Every `watcher` command now restricts its umask to at least 027.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import watcher, write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import FACES, VIDEO

LOGIN_UMASK = 0o022  # a login shell's usual umask: files 0644, folders 0755


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    """This process's umask for a moment: the children started meanwhile inherit it."""
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def modes_under(folder: Path) -> dict[str, int]:
    """Every file and folder under `folder` (itself included): relative path -> mode."""
    out = {".": mode(folder)}
    for path in folder.rglob("*"):
        out[str(path.relative_to(folder))] = mode(path)
    return out


def not_private(found: dict[str, int]) -> dict[str, str]:
    """What is more open than 0640 (files) / 0750 (folders), in octal."""
    bad = {}
    for name, bits in found.items():
        if bits & 0o027:  # group write, or anything for others
            bad[name] = oct(bits)
    return bad


@pytest.mark.timeout(180)
def test_the_daemon_creates_private_files_under_umask_022(tmp_path: Path) -> None:
    # noface_face.mp4: a stranger at 4.0 s: a clip, a snapshot and face crops.
    config = write_config(
        tmp_path, source=str(VIDEO / "noface_face.mp4"), extra="status_interval_s: 0\n"
    )
    recordings = tmp_path / "recordings"
    db = recordings / "watcher.db"
    with umask(LOGIN_UMASK), Daemon(config) as daemon:
        daemon.wait_for(r"watching 1 camera\(s\)", timeout=60)
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        daemon.wait_for(rf"event {opened.group(1)}: ended after", timeout=30)
        # The WAL files exist only while the database is open.
        deadline = time.monotonic() + 15
        while not (recordings / "status.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        running = modes_under(recordings)
        for name in ("watcher.db", "watcher.db-wal", "watcher.db-shm", "status.json"):
            assert running.get(name) == 0o640, (name, running)
        assert daemon.stop(signal.SIGTERM) == 0
    row = events(config)[0]
    for key in ("clip", "snapshot", "face"):
        assert mode(Path(str(row[key]))) == 0o640, (key, row[key])
    after = modes_under(recordings)
    assert after["."] == 0o750 and mode(Path(str(row["clip"])).parent) == 0o750
    assert len(after) >= 8, after  # folders, clip, snapshot, crops, db, lock, status
    assert not_private(after) == {}
    assert mode(db) == 0o640
    # The gallery's cache of embeddings, written at start.
    assert not_private(modes_under(tmp_path / "known_faces" / ".cache")) == {}


@pytest.mark.timeout(300)
def test_other_commands_create_private_files_under_umask_022(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    photo = tmp_path / "obama.jpg"
    photo.write_bytes((FACES / "obama_1.jpg").read_bytes())
    with umask(LOGIN_UMASK):
        added = watcher("faces", "add", "obama", str(photo), "-c", str(config))
        assert added.returncode == 0, added.stdout + added.stderr
        replayed = watcher("replay", str(VIDEO / "noface_face.mp4"), "-c", str(config))
        assert replayed.returncode == 0, replayed.stderr
    gallery = tmp_path / "known_faces"
    person = modes_under(gallery / "obama")
    assert person == {".": 0o750, "obama.jpg": 0o640}, person
    assert not_private(modes_under(gallery / ".cache")) == {}
    recordings = modes_under(tmp_path / "recordings")
    assert any(name.endswith(".mp4") for name in recordings), recordings
    assert recordings["watcher.db"] == 0o640 and recordings["."] == 0o750
    assert not_private(recordings) == {}


@pytest.mark.timeout(120)
def test_learned_looks_written_by_the_daemon_are_private(tmp_path: Path) -> None:
    from watcher.source.demo_photos import install_resident

    # The demo's resident passes at 4-11 s: a sure visit, which teaches one look.
    config = write_config(tmp_path, source="demo", extra="status_interval_s: 0\n")
    install_resident(tmp_path / "known_faces")
    with umask(LOGIN_UMASK), Daemon(config) as daemon:
        daemon.wait_for(r"learned a look of grace_hopper at camera cam", timeout=60)
        assert daemon.stop(signal.SIGTERM) == 0
    learned = modes_under(tmp_path / "known_faces" / ".learned")
    assert learned == {".": 0o750, "grace_hopper.npz": 0o640}, learned
    cache = modes_under(tmp_path / "known_faces" / ".cache")
    assert cache["."] == 0o750 and len(cache) >= 2 and not_private(cache) == {}, cache
