"""Issue 12, defect 3: retention counts only watcher's own files, and never purges for others.

A 55 MB backup in the recordings folder put it "over the size limit": retention
removed every event, then every new one, and warned at each pass. Now only
watcher's clips, snapshots and crops count toward max_disk_gb; a limit that
removing watcher's files cannot meet is one warning that says why, not a purge;
and a disk someone else fills keeps the newest events.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tests.support.recordings import SIZE, add_event, event_ids, gone, kept
from tests.support.recordings import recordings as recordings  # noqa: F401  (a fixture)
from watcher.constants import EVENT_CLOSED, EVENT_OPEN
from watcher.housekeeping import GB, HousekeepingTask, RetentionLimits
from watcher.store import Event


def sparse(path: Path, size: str) -> Path:
    """A real file of `size` (e.g. '4G') that takes no disk space: `truncate -s`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["truncate", "-s", size, str(path)], check=True, timeout=30)
    return path


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "watcher.retention" and r.levelno >= logging.WARNING
    ]


def test_a_foreign_backup_in_the_recordings_folder_does_not_count(
    engine: Engine,
    recordings: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = [
        add_event(engine, recordings, f"ba0000000{i:03d}", timedelta(hours=5 - i)) for i in range(3)
    ]
    backup = sparse(recordings / "backup-2026-11.tar", "4G")  # 4 GB, over max_disk_gb 1
    task = HousekeepingTask(engine, recordings, RetentionLimits(None, 1, None), set)
    with caplog.at_level(logging.DEBUG, logger="watcher.retention"):
        first = task.run_once()
        second = task.run_once()
    assert first is not None and second is not None
    assert first.events_removed == 0 and second.events_removed == 0
    assert all(kept(e) for e in events) and backup.stat().st_size == 4 * 2**30
    assert len(event_ids(engine)) == 3
    assert first.total_bytes == 3 * 3 * SIZE  # the three events' files, nothing else
    assert first.over_limit == [] and warnings(caplog) == []


def test_a_size_limit_watcher_cannot_meet_is_one_warning_not_a_purge(
    engine: Engine,
    recordings: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    older = [
        add_event(engine, recordings, f"bb0000000{i:03d}", timedelta(hours=5 - i)) for i in range(3)
    ]
    # A clip of 2 GB being written (its event open): it must stay, and alone it passes
    # max_disk_gb 1, so removing every other event could not meet the limit.
    live = add_event(
        engine, recordings, "bb0000000100", timedelta(minutes=3), status=EVENT_OPEN, stored=()
    )
    sparse(live.clip, "2G")
    task = HousekeepingTask(engine, recordings, RetentionLimits(None, 1, None), lambda: {live.clip})
    with caplog.at_level(logging.DEBUG, logger="watcher.retention"):
        reports = [task.run_once() for _ in range(3)]
    assert all(r is not None and r.events_removed == 0 for r in reports)
    assert all(kept(e) for e in older) and kept(live)
    said = warnings(caplog)
    assert len(said) == 1, said  # once, not at every pass
    assert "over size limit" in said[0] and "must stay" in said[0], said
    assert "no event removed for size" in said[0]

    # The clip ends and may go: the limit can be met again, the oldest go first.
    caplog.clear()
    with Session(engine) as session, session.begin():
        session.execute(
            update(Event)
            .where(Event.id == "bb0000000100")
            .values(status=EVENT_CLOSED, ended_at=Event.started_at, clip_path=str(live.clip))
        )
    task.active_clips = set
    with caplog.at_level(logging.INFO, logger="watcher.retention"):
        report = task.run_once()
    assert report is not None and report.over_limit == []
    assert all(gone(e) for e in older) and not live.clip.exists()
    assert any("back within the size limit" in r.getMessage() for r in caplog.records)


def test_a_disk_someone_else_fills_keeps_the_recordings_and_says_so(
    engine: Engine,
    recordings: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = [
        add_event(engine, recordings, f"bc0000000{i:03d}", timedelta(days=4 - i)) for i in range(4)
    ]
    # The real disk, with a min_free_gb 50 GB beyond its free space: whatever fills it,
    # it is not watcher's few kilobytes.
    free = shutil.disk_usage(recordings).free
    limits = RetentionLimits(None, None, (free + 50 * GB) / GB)
    task = HousekeepingTask(engine, recordings, limits, set)
    with caplog.at_level(logging.DEBUG, logger="watcher.retention"):
        reports = [task.run_once() for _ in range(3)]
    assert all(r is not None and r.events_removed == 0 for r in reports), reports
    assert all(kept(e) for e in events) and len(event_ids(engine)) == 4
    said = warnings(caplog)
    assert len(said) == 1, said
    assert "something else is filling this disk" in said[0], said
    assert "recordings are kept" in said[0]
