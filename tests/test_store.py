"""Store tests: real SQLite files in tmp_path, the real writer thread, no mocks."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from watcher.constants import EVENT_CLOSED, EVENT_NO_CLIP, EVENT_OPEN
from watcher.store import (
    Event,
    SightingData,
    StoreWriter,
    get_event,
    init_db,
    list_events,
    make_engine,
)

WAIT_S = 10.0  # upper bound of every wait in these tests
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
EVENT_KEYS = {
    "id",
    "camera",
    "started_at",
    "ended_at",
    "clip",
    "snapshot",
    "face",
    "faces",
    "closest_distance",
    "status",
    "decision",
}
SIGHTING_KEYS = {"at", "offset_s", "name", "distance", "box", "note"}


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    """Poll `predicate` until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


# The `db_path`, `engine` and `writer` fixtures (a real SQLite file in a folder that
# does not exist yet, one writer) are in conftest.py.


def sighting(
    offset_s: float, name: str | None = None, distance: float | None = 0.7
) -> SightingData:
    return SightingData(
        at=T0 + timedelta(seconds=offset_s),
        offset_s=offset_s,
        box=(10, 60, 70, 5),
        name=name,
        distance=distance,
    )


# -- models ---------------------------------------------------------------------------


def test_datetimes_round_trip_as_aware_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=paris)
    with Session(engine) as session, session.begin():
        session.add(Event(id="tz1", camera="door", started_at=local, ended_at=local))

    record = get_event(engine, "tz1")
    assert record is not None
    assert record.started_at == local  # same instant...
    assert record.started_at.tzinfo is UTC  # ...given back in UTC
    assert record.started_at.hour == 10 and record.started_at.microsecond == 123456
    assert record.created_at.tzinfo is UTC
    # SQLite has no zones: the file holds naive UTC.
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT started_at FROM events WHERE id = 'tz1'")).scalar_one()
    assert str(raw).startswith("2026-11-24 10:00:00")


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    naive = datetime(2026, 11, 24, 10, 0)
    with Session(engine) as session:
        session.add(Event(id="naive", camera="door", started_at=naive))
        with pytest.raises(StatementError) as caught:
            session.flush()
        assert isinstance(caught.value.orig, ValueError)
    assert get_event(engine, "naive") is None

    writer = StoreWriter(engine)
    with pytest.raises(ValueError):
        writer.open_event("naive", "door", naive)
    with pytest.raises(ValueError):
        writer.close_event("naive", naive)
    with pytest.raises(ValueError):
        SightingData(at=naive, offset_s=0.0, box=(1, 2, 3, 4))
    with pytest.raises(ValueError):
        list_events(engine, since=naive)


# -- engine ---------------------------------------------------------------------------


def test_sqlite_file_engine_settings(engine: Engine, db_path: Path) -> None:
    assert db_path.parent.is_dir()  # make_engine created the missing folders
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    # WAL is stored in the file: a plain connection sees it too.
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_a_reader_that_keeps_no_connection_closes_it_after_each_use(tmp_path: Path) -> None:
    """The review page's engine: its connection (and SQLite's page cache) goes each time."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    kept, reader = make_engine(url), make_engine(url, keep_connections=False)
    try:
        opened: dict[Engine, int] = {kept: 0, reader: 0}
        for eng in (kept, reader):
            event.listen(
                eng, "connect", lambda *_a, eng=eng: opened.__setitem__(eng, opened[eng] + 1)
            )
            for _ in range(3):
                with eng.connect() as conn:
                    assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert opened[kept] == 1  # the daemon's: pooled for the next use
        assert opened[reader] == 3  # the page's: closed each time, opened anew
        # In memory the one shared connection stays whatever is asked: it is the database.
        memory = make_engine("sqlite://", keep_connections=False)
        assert type(memory.pool).__name__ == "StaticPool"
    finally:
        kept.dispose()
        reader.dispose()


def test_in_memory_database_is_shared_with_the_writer_thread() -> None:
    eng = make_engine("sqlite://")
    init_db(eng)
    w = StoreWriter(eng).start()
    try:
        w.open_event("mem1", "door", T0)
        assert w.flush(timeout=WAIT_S)
        assert get_event(eng, "mem1") is not None
    finally:
        assert w.stop(timeout=WAIT_S)
        eng.dispose()


# -- writer and queries ---------------------------------------------------------------


def test_writer_full_event_and_json(engine: Engine, writer: StoreWriter) -> None:
    assert writer._thread is not None and writer._thread.name == "watcher.store.writer"
    writer.open_event("abc123def456", "door", T0, host="pi-1")
    assert writer.flush(timeout=WAIT_S)
    opened = get_event(engine, "abc123def456")
    assert opened is not None and opened.status == EVENT_OPEN and opened.host == "pi-1"
    assert opened.to_json()["ended_at"] is None

    # Given out of order on purpose: they come back in time order.
    writer.add_sightings("abc123def456", [sighting(1.5), sighting(-0.5, distance=None)])
    writer.add_sightings("abc123def456", [sighting(0.5, name="grace", distance=0.3)])
    writer.update_event(
        "abc123def456",
        clip_path="door/a.mp4",
        faces=2,
        closest_distance=0.61,
        decision="unknown: 0.700 from grace (bound 0.500); median of 2 good look(s)",
    )
    writer.close_event(
        "abc123def456", T0 + timedelta(seconds=12), snapshot_path="door/a.jpg", face_path="f.jpg"
    )
    assert writer.flush(timeout=WAIT_S)

    record = get_event(engine, "abc123def456")
    assert record is not None
    data = record.to_json()
    assert set(data) == EVENT_KEYS | {"sightings"}
    assert data["id"] == "abc123def456"
    assert data["camera"] == "door"
    assert data["started_at"] == "2026-11-24T10:00:00+00:00"
    assert data["ended_at"] == "2026-11-24T10:00:12+00:00"
    assert data["clip"] == "door/a.mp4"
    assert data["snapshot"] == "door/a.jpg"
    assert data["face"] == "f.jpg"
    assert data["decision"].startswith("unknown: 0.700 from grace")
    assert data["faces"] == 2
    assert data["closest_distance"] == pytest.approx(0.61)
    assert data["status"] == EVENT_CLOSED
    sightings = data["sightings"]
    assert [s["offset_s"] for s in sightings] == [-0.5, 0.5, 1.5]
    assert all(set(s) == SIGHTING_KEYS for s in sightings)
    assert sightings[0] == {
        "at": "2026-11-24T09:59:59.500000+00:00",
        "offset_s": -0.5,
        "name": None,
        "distance": None,
        "box": [10, 60, 70, 5],
        "note": None,
    }
    assert sightings[1]["name"] == "grace"

    listed = list_events(engine)
    assert [e.id for e in listed] == ["abc123def456"]
    assert set(listed[0].to_json()) == EVENT_KEYS  # no sightings in listings
    assert listed[0].to_json()["ended_at"] == data["ended_at"]


def test_close_event_with_no_clip_status(engine: Engine, writer: StoreWriter) -> None:
    writer.open_event("noclip", "door", T0)
    writer.close_event("noclip", T0 + timedelta(seconds=3), status=EVENT_NO_CLIP)
    assert writer.flush(timeout=WAIT_S)
    record = get_event(engine, "noclip")
    assert record is not None and record.status == EVENT_NO_CLIP
    with pytest.raises(ValueError):
        writer.close_event("noclip", T0, status=EVENT_OPEN)
    with pytest.raises(TypeError):
        writer.update_event("noclip", camera="elsewhere")


def test_flush_returns_within_timeout(engine: Engine, writer: StoreWriter) -> None:
    for i in range(50):
        writer.open_event(f"fl{i}", "door", T0 + timedelta(seconds=i))
    start = time.monotonic()
    assert writer.flush(timeout=WAIT_S)
    assert time.monotonic() - start < WAIT_S
    assert len(list_events(engine)) == 50
    # Nothing queued: returns at once.
    start = time.monotonic()
    assert writer.flush(timeout=1.0)
    assert time.monotonic() - start < 1.0


def test_flush_without_a_running_thread_does_not_hang(engine: Engine) -> None:
    idle = StoreWriter(engine)
    assert idle.flush(timeout=0.1)  # nothing queued
    idle.open_event("never", "door", T0)
    start = time.monotonic()
    assert not idle.flush(timeout=5.0)  # queued but nobody to write it
    assert time.monotonic() - start < 1.0


def test_writes_from_many_threads_all_land(engine: Engine, writer: StoreWriter) -> None:
    threads_n, events_n = 8, 20
    barrier = threading.Barrier(threads_n)

    def camera(n: int) -> None:
        barrier.wait(timeout=WAIT_S)  # all cameras write at the same moment
        for i in range(events_n):
            event_id = f"c{n}e{i}"
            writer.open_event(event_id, f"cam{n}", T0 + timedelta(seconds=i))
            writer.add_sightings(event_id, [sighting(0.0), sighting(0.2)])
            writer.close_event(event_id, T0 + timedelta(seconds=i + 1), faces=1)

    threads = [threading.Thread(target=camera, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_S)
        assert not t.is_alive()
    assert writer.flush(timeout=WAIT_S)

    events = list_events(engine)
    assert len(events) == threads_n * events_n
    assert all(e.status == EVENT_CLOSED and e.faces == 1 for e in events)
    one = get_event(engine, "c3e7")
    assert one is not None and one.sightings is not None and len(one.sightings) == 2


def test_list_events_filters(engine: Engine, writer: StoreWriter) -> None:
    writer.open_event("d1", "door", T0)
    writer.open_event("g1", "garden", T0 + timedelta(minutes=1))
    writer.open_event("d2", "door", T0 + timedelta(minutes=2))
    writer.open_event("d3", "door", T0 + timedelta(minutes=3))
    assert writer.flush(timeout=WAIT_S)

    assert [e.id for e in list_events(engine)] == ["d3", "d2", "g1", "d1"]  # newest first
    assert [e.id for e in list_events(engine, camera="door")] == ["d3", "d2", "d1"]
    assert [e.id for e in list_events(engine, camera="garden")] == ["g1"]
    assert list_events(engine, camera="attic") == []
    since = T0 + timedelta(minutes=2)
    assert [e.id for e in list_events(engine, since=since)] == ["d3", "d2"]
    # `since` in another zone means the same instant.
    since_local = since.astimezone(timezone(timedelta(hours=-5)))
    assert [e.id for e in list_events(engine, since=since_local)] == ["d3", "d2"]
    assert [e.id for e in list_events(engine, camera="door", since=since, limit=1)] == ["d3"]
    assert [e.id for e in list_events(engine, limit=2)] == ["d3", "d2"]
    assert get_event(engine, "missing") is None


# -- failures -------------------------------------------------------------------------


def errors(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [
        r.getMessage()
        for r in list(caplog.records)
        if r.name == "watcher.store" and r.levelno >= level
    ]


def test_failed_write_is_logged_and_writer_goes_on(
    engine: Engine, writer: StoreWriter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="watcher.store")
    writer.open_event("gone", "door", T0)
    assert writer.flush(timeout=WAIT_S)
    with Session(engine) as session, session.begin():
        session.execute(delete(Event).where(Event.id == "gone"))

    writer.update_event("gone", clip_path="x.mp4")
    writer.add_sightings("gone", [sighting(0.0)])  # foreign key violation
    writer.close_event("gone", T0 + timedelta(seconds=1))
    writer.open_event("gone", "door", T0)
    writer.open_event("gone", "door", T0)  # duplicate id
    writer.open_event("after", "door", T0)
    assert writer.flush(timeout=WAIT_S)

    messages = errors(caplog, logging.ERROR)
    assert any("update_event for gone failed" in m for m in messages)
    assert any("add_sightings for gone failed" in m and "Integrity" in m for m in messages)
    assert any("close_event for gone failed" in m for m in messages)
    assert any("open_event for gone failed" in m for m in messages)
    assert all("\n" not in m for m in messages)  # one line each
    assert writer._thread is not None and writer._thread.is_alive()
    assert get_event(engine, "after") is not None
    assert get_event(engine, "gone") is not None


def test_locked_database_is_retried(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="watcher.store")
    eng = make_engine(f"sqlite:///{db_path}")

    # Runs after make_engine's PRAGMAs: fail fast on a lock instead of after 5 s.
    @event.listens_for(eng, "connect")
    def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    init_db(eng)
    w = StoreWriter(eng, retries=50, backoff_s=0.02).start()
    locker = sqlite3.connect(db_path, isolation_level=None, timeout=WAIT_S)
    try:
        locker.execute("BEGIN IMMEDIATE")  # holds the write lock
        w.open_event("locked", "door", T0)
        assert wait_for(lambda: any("locked" in m for m in errors(caplog)))
        locker.execute("COMMIT")
        assert w.flush(timeout=WAIT_S)
        assert get_event(eng, "locked") is not None
        assert any("open_event for locked failed (attempt 1/" in m for m in errors(caplog))
    finally:
        locker.close()
        assert w.stop(timeout=WAIT_S)
        eng.dispose()


def test_stop_ends_the_thread_and_later_writes_are_dropped(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="watcher.store")
    w = StoreWriter(engine).start()
    w.open_event("last", "door", T0)
    assert w.stop(timeout=WAIT_S)
    assert w._thread is not None and not w._thread.is_alive()
    assert get_event(engine, "last") is not None  # stop flushed first
    w.open_event("late", "door", T0)
    assert get_event(engine, "late") is None
    assert any("dropped" in m for m in errors(caplog))
