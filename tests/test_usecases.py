"""Use cases above the store: deleting an event with its files (the naming of an identity
is tested with real faces in test_identities.py)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

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
from watcher.constants import EVENT_OPEN
from watcher.store import EventIdentity, Sighting, UnknownIdentity
from watcher.usecases import EventNotDeleted, delete_event


def seen_by_stranger(engine: Engine, paths_crop: Path, *event_ids: str) -> int:
    """An unknown identity that the events saw, its crop one sighting's: its id."""
    with Session(engine) as session, session.begin():
        identity = UnknownIdentity(
            label="unknown-1",
            first_seen=NOW - timedelta(days=2),
            last_seen=NOW,
            centroid=b"\0" * 512,
            sightings=len(event_ids),
            events=len(event_ids),
            crop_path=str(paths_crop),
        )
        session.add(identity)
        session.flush()
        for event_id in event_ids:
            session.add(EventIdentity(event_id=event_id, identity_id=identity.id))
            sighting = session.scalars(select(Sighting).where(Sighting.event_id == event_id)).one()
            sighting.identity_id = identity.id
        first = session.scalars(select(Sighting).where(Sighting.event_id == event_ids[0])).one()
        first.crop_path = str(paths_crop)
        return identity.id


def test_an_event_goes_with_its_clip_snapshot_crops_and_rows(
    engine: Engine, recordings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    doomed = add_event(engine, recordings, "dede00000000", timedelta(days=2))
    other = add_event(engine, recordings, "dede00000001", timedelta(days=1))
    crop = touch(doomed.clip.with_name(f"{doomed.clip.stem}-face-1.jpg"))
    identity = seen_by_stranger(engine, crop, "dede00000000", "dede00000001")
    with caplog.at_level(logging.INFO, logger="watcher.events"):
        done = delete_event(engine, recordings, "dede00000000", host="pi")
    assert done.event_id == "dede00000000" and done.bytes_freed == 4 * SIZE
    assert set(done.files) == {doomed.clip, doomed.snapshot, doomed.face, crop}
    assert gone(doomed) and not crop.exists() and kept(other)
    assert event_ids(engine) == {"dede00000001"} and sighting_count(engine) == 1
    # The stranger it saw is recounted: one event, one sighting, no crop of the gone event.
    with Session(engine) as session:
        row = session.get(UnknownIdentity, identity)
        assert row is not None and (row.events, row.sightings) == (1, 1)
        assert row.crop_path is None
    assert [r.getMessage() for r in caplog.records] == [
        "event dede00000000 deleted: 4 file(s), 4000 B"
    ]


def test_what_cannot_be_deleted_is_refused_and_left_alone(
    engine: Engine, recordings: Path, tmp_path: Path
) -> None:
    live = add_event(engine, recordings, "dede00000010", timedelta(0), status=EVENT_OPEN)
    theirs = add_event(engine, recordings, "dede00000011", timedelta(days=1), host="pi-2")
    elsewhere = add_event(engine, tmp_path / "other", "dede00000012", timedelta(days=1))
    with pytest.raises(EventNotDeleted, match="no event 'nothing'"):
        delete_event(engine, recordings, "nothing")
    with pytest.raises(EventNotDeleted, match="still recording"):
        delete_event(engine, recordings, "dede00000010")
    with pytest.raises(EventNotDeleted, match="not this host's"):
        delete_event(engine, recordings, "dede00000011", host="pi")
    with pytest.raises(EventNotDeleted, match="not this host's"):
        delete_event(engine, recordings, "dede00000012")
    assert kept(live) and kept(theirs) and kept(elsewhere)
    assert event_ids(engine) == {"dede00000010", "dede00000011", "dede00000012"}


def test_a_file_that_stays_keeps_the_event_minus_what_went(
    engine: Engine, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = add_event(engine, recordings, "dede00000020", timedelta(days=1))
    unlink = Path.unlink

    def stuck(self: Path, missing_ok: bool = False) -> None:
        if self.name == paths.clip.name:
            raise PermissionError(13, "Permission denied")
        unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", stuck)
    with pytest.raises(EventNotDeleted, match=r"kept: .*\.mp4: Permission denied"):
        delete_event(engine, recordings, "dede00000020")
    assert paths.clip.exists() and not paths.snapshot.exists() and not paths.face.exists()
    row = event_row(engine, "dede00000020")
    assert row.clip_path == str(paths.clip)
    assert row.snapshot_path is None and row.face_path is None
