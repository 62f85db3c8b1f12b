"""Retention on real SQLite and real files: oldest first, files and rows go together."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.support.recordings import (
    NOW,
    SIZE,
    add_event,
    event_ids,
    event_row,
    gone,
    kept,
    sighting_count,
    touch,
)
from tests.support.recordings import recordings as recordings  # noqa: F401  (a fixture)
from watcher.constants import EVENT_INTERRUPTED, EVENT_OPEN
from watcher.housekeeping import HousekeepingTask, RetentionLimits, enforce
from watcher.store import Sighting, make_engine

NO_LIMITS: dict[str, Any] = {"max_age_days": None, "max_disk_gb": None, "min_free_gb": None}


def test_events_older_than_max_age_go_with_their_files_and_sightings(
    engine: Engine, recordings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = add_event(engine, recordings, "aaaa00000001", timedelta(days=20))
    older = add_event(engine, recordings, "aaaa00000000", timedelta(days=30))
    recent = add_event(engine, recordings, "aaaa00000002", timedelta(days=1))
    with caplog.at_level(logging.INFO, logger="watcher.retention"):
        report = enforce(
            engine, recordings, **{**NO_LIMITS, "max_age_days": 14}, active_clips=set(), now=NOW
        )
    assert report.removed == {"age": 2}
    assert report.removed_ids == ["aaaa00000000", "aaaa00000001"]  # oldest first
    assert report.bytes_freed == 2 * 3 * SIZE and report.files_removed == 6
    assert gone(old) and gone(older) and kept(recent)
    assert event_ids(engine) == {"aaaa00000002"}
    assert sighting_count(engine) == 1
    # Their day folders, now empty and in the past, are gone too.
    assert not old.clip.parent.exists() and recent.clip.parent.exists()
    lines = [r.getMessage() for r in caplog.records if r.name == "watcher.retention"]
    assert len(lines) == 1 and "removed 2 event(s) (age 2)" in lines[0], lines


def test_total_size_over_max_disk_removes_the_oldest_until_under(
    engine: Engine, recordings: Path
) -> None:
    events = [
        add_event(engine, recordings, f"bbbb0000000{i}", timedelta(hours=10 - i)) for i in range(4)
    ]
    # 4 events of 3000 bytes; the limit is 7000 bytes, in (fractional) GB.
    report = enforce(
        engine, recordings, **{**NO_LIMITS, "max_disk_gb": 0.000007}, active_clips=set(), now=NOW
    )
    assert report.removed == {"size": 2}
    assert gone(events[0]) and gone(events[1]) and kept(events[2]) and kept(events[3])
    assert event_ids(engine) == {"bbbb00000002", "bbbb00000003"}
    assert report.total_bytes == 6000 and report.over_limit == []


def test_low_free_space_removes_the_oldest_until_enough_is_free(
    engine: Engine, recordings: Path
) -> None:
    events = [
        add_event(engine, recordings, f"cccc0000000{i}", timedelta(days=3 - i)) for i in range(3)
    ]
    asked: list[Path] = []

    def disk_usage(path: Path) -> SimpleNamespace:
        asked.append(path)
        return SimpleNamespace(total=10**9, used=10**9 - 500, free=500)

    # 500 bytes free, 5000 wanted: two events (6000 bytes) must go.
    report = enforce(
        engine,
        recordings,
        **{**NO_LIMITS, "min_free_gb": 0.000005},
        active_clips=set(),
        now=NOW,
        disk_usage=disk_usage,
    )
    assert asked == [recordings]
    assert report.removed == {"free": 2}
    assert gone(events[0]) and gone(events[1]) and kept(events[2])
    assert report.free_bytes == 6500 and report.over_limit == []


def test_a_clip_being_written_is_never_removed(engine: Engine, recordings: Path) -> None:
    writing = add_event(engine, recordings, "dddd00000000", timedelta(days=40))
    other = add_event(engine, recordings, "dddd00000001", timedelta(days=39))
    report = enforce(
        engine,
        recordings,
        max_age_days=14,
        max_disk_gb=0.0,
        min_free_gb=None,
        active_clips={writing.clip},
        now=NOW,
    )
    assert kept(writing) and gone(other)
    assert event_ids(engine) == {"dddd00000000"}
    assert report.over_limit == ["size"]  # said, since nothing more may go


def test_open_events_and_their_files_are_untouched(engine: Engine, recordings: Path) -> None:
    # Open and old, its clip not yet in the row (written at close), and over every limit.
    recording = add_event(
        engine, recordings, "eeee00000000", timedelta(days=60), status=EVENT_OPEN, stored=()
    )
    # Open and pointing at a clip that is not there (yet): still not an orphan row.
    pending = add_event(
        engine, recordings, "eeee00000001", timedelta(days=60), status=EVENT_OPEN, files=()
    )
    report = enforce(
        engine,
        recordings,
        max_age_days=1,
        max_disk_gb=0.0,
        min_free_gb=None,
        active_clips=set(),
        now=NOW,
    )
    assert kept(recording) and not pending.clip.exists()
    assert event_ids(engine) == {"eeee00000000", "eeee00000001"}
    assert report.events_removed == 0 and report.orphan_files == 0
    assert event_row(engine, "eeee00000000").clip_path is None  # not adopted while open


def test_orphan_files_and_rows_are_cleaned_up(engine: Engine, recordings: Path) -> None:
    # A closed event whose clip vanished: the row and its leftover snapshot go.
    vanished = add_event(engine, recordings, "ffff00000000", timedelta(days=1))
    vanished.clip.unlink()
    # A closed event whose snapshot vanished: it stays, without the dangling path.
    half = add_event(engine, recordings, "ffff00000001", timedelta(days=1))
    half.snapshot.unlink()
    # A crash lost the writer's last update: the clip on disk is adopted, not deleted.
    crashed = add_event(
        engine,
        recordings,
        "ffff00000002",
        timedelta(days=1),
        status=EVENT_INTERRUPTED,
        stored=("snapshot",),
    )
    # Media no row knows: old ones go; a young one may be an event not yet in the DB.
    old_orphan = touch(
        recordings / "front_door" / "2020-01-01" / "010203-0123456789ab.mp4",
        at=NOW - timedelta(hours=1),
    )
    old_crop = touch(
        old_orphan.with_name("010203-0123456789ab-face.jpg"), at=NOW - timedelta(hours=1)
    )
    young = touch(
        recordings / "front_door" / "x" / "235959-ba9876543210.mp4", at=NOW - timedelta(minutes=2)
    )
    # Not media: never touched (the database often lives in recordings/).
    database = touch(recordings / "watcher.db", at=NOW - timedelta(days=100))
    notes = touch(recordings / "front_door" / "README.txt", at=NOW - timedelta(days=100))

    report = enforce(engine, recordings, **NO_LIMITS, active_clips=set(), now=NOW)

    assert gone(vanished) and "ffff00000000" not in event_ids(engine)
    assert report.removed == {"vanished": 1}
    assert half.clip.exists() and event_row(engine, "ffff00000001").snapshot_path is None
    assert kept(crashed) and event_row(engine, "ffff00000002").clip_path == str(crashed.clip)
    assert event_row(engine, "ffff00000002").face_path == str(crashed.face)
    assert report.repaired_rows == 2
    # A clip without a row is still a recording (its row may have been lost while
    # the database was down): it is kept and counted; its stray crop goes.
    assert old_orphan.exists() and report.unlisted_clips == 1
    assert not old_crop.exists() and report.orphan_files == 1
    assert young.exists() and database.exists() and notes.exists()
    assert sighting_count(engine) == 2

    # A second pass finds everything consistent.
    again = enforce(engine, recordings, **NO_LIMITS, active_clips=set(), now=NOW)
    assert again.events_removed == again.orphan_files == again.repaired_rows == 0


def test_files_a_closed_row_leaves_out_are_settled(engine: Engine, recordings: Path) -> None:
    # Closed without a clip (no frame was written): a clip file by its name is junk.
    no_clip = add_event(
        engine, recordings, "fefe00000000", timedelta(days=1), stored=("snapshot", "face")
    )
    # Closed, but the update naming its snapshot and crop was lost: they are adopted.
    lost = add_event(engine, recordings, "fefe00000001", timedelta(days=1), stored=("clip",))
    report = enforce(engine, recordings, **NO_LIMITS, active_clips=set(), now=NOW)
    assert not no_clip.clip.exists() and no_clip.snapshot.exists()
    assert event_row(engine, "fefe00000000").clip_path is None
    assert kept(lost) and event_row(engine, "fefe00000001").snapshot_path == str(lost.snapshot)
    assert event_row(engine, "fefe00000001").face_path == str(lost.face)
    assert report.orphan_files == 1 and report.repaired_rows == 1
    assert event_ids(engine) == {"fefe00000000", "fefe00000001"}


def test_other_hosts_rows_and_files_elsewhere_are_not_ours(
    engine: Engine, recordings: Path, tmp_path: Path
) -> None:
    # Another host of a shared database: its files are not on this disk at all.
    theirs = add_event(engine, recordings, "abab00000000", timedelta(days=90), host="garage-pi")
    for path in (theirs.clip, theirs.snapshot, theirs.face):
        path.unlink()
    # A row whose files live outside recordings_dir (the config moved it): left alone.
    elsewhere = add_event(engine, tmp_path / "old-recordings", "abab00000001", timedelta(days=90))
    report = enforce(
        engine,
        recordings,
        max_age_days=14,
        max_disk_gb=0.0,
        min_free_gb=None,
        active_clips=set(),
        now=NOW,
        host="pi",
    )
    assert event_ids(engine) == {"abab00000000", "abab00000001"}
    assert kept(elsewhere) and report.events_removed == 0


def test_task_runs_passes_in_its_thread_and_survives_errors(
    engine: Engine, recordings: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = add_event(engine, recordings, "acac00000000", timedelta(days=20))
    asked = threading.Event()

    def active() -> set[Path]:
        asked.set()
        return set()

    task = HousekeepingTask(
        engine, recordings, RetentionLimits(14, None, None), active, interval_s=3600
    )
    task.start()
    try:
        task.wake()  # a disk-full error asks for a pass now
        assert asked.wait(10)
        deadline = time.monotonic() + 10
        while not gone(old) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone(old)
    finally:
        assert task.stop(timeout=10)

    broken = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
    with caplog.at_level(logging.ERROR, logger="watcher.retention"):
        assert HousekeepingTask(broken, recordings, RetentionLimits(), set).run_once() is None
    assert any("pass failed" in r.getMessage() for r in caplog.records)


def test_a_round_runs_retention_then_privacy_expiry_on_the_housekeeping_task(
    engine: Engine, recordings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = add_event(engine, recordings, "adad00000000", timedelta(days=20))
    kept_event = add_event(engine, recordings, "adad00000001", timedelta(days=10))
    crop = touch(kept_event.clip.with_name(f"{kept_event.clip.stem}-face-1.jpg"))
    with Session(engine) as session, session.begin():
        sighting = session.scalars(
            select(Sighting).where(Sighting.event_id == "adad00000001")
        ).one()
        sighting.crop_path, sighting.embedding = str(crop), b"\0" * 512
    beats: list[str] = []
    task = HousekeepingTask(
        engine, recordings, RetentionLimits(14, None, None), set, unknown_faces_days=7
    )
    task.beat = beats.append
    with caplog.at_level(logging.INFO):
        task.run_round()
    assert gone(old) and kept(kept_event)  # retention: the 20-day-old event went
    assert not crop.exists()  # privacy: the 10-day-old stranger's crop went, its row stays
    with Session(engine) as session:
        left = session.scalars(select(Sighting).where(Sighting.event_id == "adad00000001")).one()
        assert left.crop_path is None and left.embedding is None
    assert beats == [task.thread_name] * 2  # a beat after each pass
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert [name for name, _ in messages] == ["watcher.retention", "watcher.store"]
    assert messages[1][1].startswith("privacy: 1 embedding(s), 1 crop(s)")
    # Without a privacy period, a round is retention alone.
    assert HousekeepingTask(engine, recordings, RetentionLimits(), set).expire_once() is None


def test_missing_recordings_dir_is_nothing_to_do(engine: Engine, tmp_path: Path) -> None:
    report = enforce(engine, tmp_path / "not-yet", **NO_LIMITS, active_clips=set(), now=NOW)
    assert report.events_removed == 0 and report.total_bytes == 0


def test_a_clip_without_a_row_goes_when_it_is_older_than_max_age(
    engine: Engine, recordings: Path
) -> None:
    lost = touch(
        recordings / "front_door" / "2020-01-01" / "010203-0123456789ab.mp4",
        at=NOW - timedelta(days=30),
    )
    recent = touch(
        recordings / "front_door" / "2020-01-02" / "010203-0123456789ac.mp4",
        at=NOW - timedelta(days=2),
    )
    report = enforce(
        engine,
        recordings,
        max_age_days=14,
        max_disk_gb=None,
        min_free_gb=None,
        active_clips=set(),
        now=NOW,
    )
    assert not lost.exists() and recent.exists()
    assert report.orphan_files == 1 and report.unlisted_clips == 1
