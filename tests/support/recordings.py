"""Recordings on disk and their event rows, as the recorder leaves them: for housekeeping tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from watcher.constants import EVENT_CLOSED, EVENT_OPEN
from watcher.record.paths import EventPaths, event_paths
from watcher.store import Event, Sighting

NOW = datetime.now(UTC).replace(microsecond=0)
SIZE = 1000  # bytes per file: an event with clip, snapshot and crop is 3000 bytes


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    """An empty recordings folder."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    return folder


def touch(path: Path, size: int = SIZE, at: datetime = NOW) -> Path:
    """A real file of `size` bytes, last modified at `at`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    os.utime(path, (at.timestamp(), at.timestamp()))
    return path


def add_event(
    engine: Engine,
    recordings: Path,
    event_id: str,
    age: timedelta,
    *,
    status: str = EVENT_CLOSED,
    files: tuple[str, ...] = ("clip", "snapshot", "face"),
    stored: tuple[str, ...] | None = None,
    host: str | None = "pi",
) -> EventPaths:
    """An event row (with a sighting) and its files on disk; `stored` paths go in the row."""
    started = NOW - age
    paths = event_paths(recordings, "front_door", started, event_id)
    for kind in files:
        touch(getattr(paths, kind), at=started + timedelta(seconds=10))
    stored = files if stored is None else stored
    with Session(engine) as session, session.begin():
        session.add(
            Event(
                id=event_id,
                camera="front_door",
                started_at=started,
                ended_at=None if status == EVENT_OPEN else started + timedelta(seconds=10),
                clip_path=str(paths.clip) if "clip" in stored else None,
                snapshot_path=str(paths.snapshot) if "snapshot" in stored else None,
                face_path=str(paths.face) if "face" in stored else None,
                status=status,
                host=host,
            )
        )
        session.flush()
        session.add(
            Sighting(event_id=event_id, at=started, offset_s=0.0, top=1, right=2, bottom=3, left=0)
        )
    return paths


def event_ids(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(Event.id)))


def sighting_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Sighting)) or 0)


def event_row(engine: Engine, event_id: str) -> Event:
    with Session(engine) as session:
        found = session.get(Event, event_id)
        assert found is not None
        session.expunge(found)
        return found


def gone(paths: EventPaths) -> bool:
    return not any(p.exists() for p in (paths.clip, paths.snapshot, paths.face))


def kept(paths: EventPaths) -> bool:
    return all(p.exists() for p in (paths.clip, paths.snapshot, paths.face))
