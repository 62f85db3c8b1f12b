"""Issue 12, defect 7: a database deleted while the daemon runs is noticed and made again.

Rows went into the unlinked SQLite file: afterwards `events list` said "no
events" and the clips stayed without rows. Now the store writer checks its
file's identity (st_dev, st_ino) before each commit and every few seconds when
idle; when it vanished or changed, it says so once, drops its connections and
creates and migrates the database again, carrying over the events still open.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cli import write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import VIDEO
from tests.support.store import WRITER_STOP_S
from watcher.constants import EVENT_CLOSED
from watcher.store import SightingData, StoreWriter, get_event, init_db, make_engine

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def read_back(db_path: Path) -> dict[str, tuple[str, int]]:
    """(status, sightings) of every event, read by a fresh engine from the file now there."""
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        out = {}
        for event_id in ("before0000001", "after00000001"):
            record = get_event(engine, event_id)
            if record is not None:
                out[event_id] = (record.status, len(record.sightings or ()))
        return out
    finally:
        engine.dispose()


def sighting(at: datetime) -> SightingData:
    return SightingData(at=at, offset_s=0.0, box=(10, 60, 60, 10))


def test_the_writer_recreates_a_deleted_database_and_keeps_writing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path = tmp_path / "recordings" / "watcher.db"
    engine = make_engine(f"sqlite:///{db_path}")
    init_db(engine)
    writer = StoreWriter(engine, backoff_s=0.01).start()
    try:
        with caplog.at_level(logging.INFO, logger="watcher.store"):
            writer.open_event("before0000001", "cam", T0)
            writer.add_sightings("before0000001", [sighting(T0)])
            assert writer.flush()
            # What `rm recordings/watcher.db` does: the -wal and -shm stay behind.
            os.unlink(db_path)
            assert not db_path.exists() and Path(f"{db_path}-wal").exists()
            writer.open_event("after00000001", "cam", T0 + timedelta(minutes=1))
            writer.add_sightings("after00000001", [sighting(T0 + timedelta(minutes=1))])
            writer.close_event("after00000001", T0 + timedelta(minutes=2))
            # The event open when the file went keeps its row and gets its end.
            writer.close_event("before0000001", T0 + timedelta(minutes=3))
            assert writer.flush()
    finally:
        assert writer.stop(timeout=WRITER_STOP_S)
        engine.dispose()
    assert db_path.exists()
    assert read_back(db_path) == {
        "before0000001": (EVENT_CLOSED, 0),  # its sighting went with the old file
        "after00000001": (EVENT_CLOSED, 1),
    }
    with sqlite3.connect(db_path) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    said = [r.getMessage() for r in caplog.records if "was deleted" in r.getMessage()]
    assert len(said) == 1, said
    assert f"database {db_path} was deleted while watcher ran; creating it again" in said[0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.timeout(180)
def test_a_daemon_whose_database_is_deleted_stores_the_next_event(tmp_path: Path) -> None:
    # noface_face.mp4: nobody for 4 s, then a man until 6.36 s: one event.
    config = write_config(
        tmp_path, source=str(VIDEO / "noface_face.mp4"), extra="status_interval_s: 0\n"
    )
    db_path = tmp_path / "recordings" / "watcher.db"
    with Daemon(config) as daemon:
        daemon.wait_for(r"watching 1 camera\(s\)", timeout=60)
        os.unlink(db_path)
        # Noticed while idle, within seconds, and said once.
        daemon.wait_for(
            r"WARNING watcher\.store: store: database .* was deleted while watcher ran", 15
        )
        daemon.wait_for(r"database .* created again", timeout=15)
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        daemon.wait_for(rf"event {opened.group(1)}: ended after", timeout=30)
        assert daemon.stop(signal.SIGTERM) == 0
    rows = events(config)
    assert [(r["id"], r["status"]) for r in rows] == [(opened.group(1), "closed")], rows
    assert rows[0]["clip"] and Path(str(rows[0]["clip"])).exists()
    assert sum("was deleted" in line for line in daemon.lines) == 1
    assert not [line for line in daemon.lines if "Traceback" in line or " ERROR " in line]
