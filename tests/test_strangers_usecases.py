"""Tidying unknown identities (usecases.strangers): merge, forget, undo a naming, preview,
on a real SQLite database with real dlib embeddings of real photos."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.support.media import MEDIA
from watcher.core import FaceEngine, box_height
from watcher.faces.gallery import read_rgb
from watcher.faces.manage import GalleryError
from watcher.record.snapshot import crop, write_jpeg
from watcher.store import (
    EventIdentity,
    Sighting,
    SightingData,
    StoreWriter,
    list_unknown,
    to_blob,
)
from watcher.usecases import add_photos, name_identity
from watcher.usecases.naming import DEFAULT_MAX_PHOTOS
from watcher.usecases.strangers import (
    NAMING_PHOTOS,
    IdentityError,
    forget_identity,
    merge_identities,
    naming_candidates,
    undo_naming,
)

PEOPLE = MEDIA / "people"
WAIT_S = 20.0
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Visits:
    """Real faces stored by the real writer, each visit its own event and crop."""

    writer: StoreWriter
    engine: Engine
    face_engine: FaceEngine
    folder: Path
    count: int = 0

    def visit(self, photo: str) -> Path:
        """One event that saw the face of `photo`; the crop written as the pipeline does."""
        self.count += 1
        rgb = read_rgb(PEOPLE / photo)
        box = max(self.face_engine.detect(rgb, 40), key=box_height)
        vector = self.face_engine.embed(rgb, [box])[0]
        path = self.folder / f"event{self.count}-face.jpg"
        write_jpeg(path, crop(rgb, box))
        at = NOW - timedelta(hours=10 - self.count)
        event_id = f"event{self.count:04d}"
        self.writer.open_event(event_id, "cam", at)
        self.writer.add_sightings(
            event_id,
            [
                SightingData(
                    at=at,
                    offset_s=0.0,
                    box=box,
                    distance=0.9,
                    embedding=to_blob(vector),
                    crop_path=str(path),
                )
            ],
        )
        self.writer.close_event(event_id, at + timedelta(seconds=5))
        assert self.writer.flush(WAIT_S)
        return path


@pytest.fixture
def visits(engine: Engine, writer: StoreWriter, face_engine: FaceEngine, tmp_path: Path) -> Visits:
    folder = tmp_path / "rec"
    folder.mkdir()
    return Visits(writer, engine, face_engine, folder)


def labels(engine: Engine) -> dict[str, tuple[int, int]]:
    """label -> (events, sightings) of every identity."""
    return {r.label: (r.events, r.sightings) for r in list_unknown(engine)}


def test_two_identities_merged_are_one_with_both_visits(visits: Visits) -> None:
    visits.visit("person_a_1.jpg")
    visits.visit("person_b_1.jpg")
    assert labels(visits.engine) == {"unknown-1": (1, 1), "unknown-2": (1, 1)}

    merged = merge_identities(visits.engine, "unknown-1", "unknown-2")
    assert (merged.kept, merged.gone, merged.events, merged.sightings) == (
        "unknown-1",
        "unknown-2",
        2,
        2,
    )
    (record,) = list_unknown(visits.engine)
    assert record.label == "unknown-1" and set(record.event_ids) == {"event0001", "event0002"}
    assert record.first_seen < record.last_seen
    # The label that went is never reused, and a second merge of it is refused.
    with pytest.raises(IdentityError, match="no unknown identity 'unknown-2'"):
        merge_identities(visits.engine, "unknown-1", "unknown-2")
    with pytest.raises(IdentityError, match="itself"):
        merge_identities(visits.engine, "unknown-1", "unknown-1")


def test_a_forgotten_identity_is_gone_and_its_events_stay(visits: Visits) -> None:
    visits.visit("person_a_1.jpg")
    gone = forget_identity(visits.engine, "unknown-1")
    assert (gone.events, gone.sightings) == (1, 1)
    assert list_unknown(visits.engine) == []
    with Session(visits.engine) as session:
        sighting = session.scalars(select(Sighting)).one()
        assert sighting.event_id == "event0001"
        assert sighting.identity_id is None and sighting.embedding is None
        assert session.scalar(select(func.count()).select_from(EventIdentity)) == 0
    with pytest.raises(IdentityError):
        forget_identity(visits.engine, "unknown-1")


def test_undo_a_naming_removes_its_photos_only_and_makes_the_face_unknown_again(
    visits: Visits, tmp_path: Path
) -> None:
    crop_path = visits.visit("person_a_1.jpg")
    gallery = tmp_path / "known_faces"
    assert naming_candidates(visits.engine, "unknown-1", 6) == [crop_path]
    named = name_identity(
        visits.engine, "unknown-1", "anna", gallery, face_engine=visits.face_engine
    )
    assert len(named.photos) == 1
    # A photo of her added another way stays when the naming is undone.
    (own,) = add_photos(visits.face_engine, gallery, "anna", [PEOPLE / "person_a_2.jpg"])
    assert own.accepted and own.dest is not None
    # A named identity is neither merged nor forgotten: its naming must be undone first.
    with pytest.raises(IdentityError, match="undo the naming first"):
        forget_identity(visits.engine, "unknown-1")

    undone = undo_naming(visits.engine, "unknown-1", gallery)
    assert undone.name == "anna" and undone.photos == named.photos and undone.sightings == 1
    assert not named.photos[0].exists() and own.dest.is_file()
    (record,) = list_unknown(visits.engine)
    assert record.named_as is None
    with Session(visits.engine) as session:
        assert session.scalars(select(Sighting.name)).all() == [None]
    with pytest.raises(IdentityError, match="not named"):
        undo_naming(visits.engine, "unknown-1", gallery)


def test_undo_of_a_naming_that_was_her_only_photos_removes_the_person(
    visits: Visits, tmp_path: Path
) -> None:
    visits.visit("person_a_1.jpg")
    gallery = tmp_path / "known_faces"
    name_identity(visits.engine, "unknown-1", "anna", gallery, face_engine=visits.face_engine)
    undo_naming(visits.engine, "unknown-1", gallery)
    assert not (gallery / "anna").exists()
    # Named again after the undo: the same crops are accepted again.
    again = name_identity(
        visits.engine, "unknown-1", "anna", gallery, face_engine=visits.face_engine
    )
    assert len(again.photos) == 1
    with pytest.raises(GalleryError, match="already named"):
        name_identity(visits.engine, "unknown-1", "bob", gallery, face_engine=visits.face_engine)


def test_the_preview_counts_the_photos_naming_adds() -> None:
    assert NAMING_PHOTOS == DEFAULT_MAX_PHOTOS


def test_a_page_gets_only_each_strangers_newest_events(visits: Visits) -> None:
    # Three visits of one person (events 1-3, newest last) and one of another.
    for photo in ("person_a_1.jpg", "person_a_2.jpg", "person_a_3.jpg", "person_b_1.jpg"):
        visits.visit(photo)
    full = {r.label: r.event_ids for r in list_unknown(visits.engine)}
    assert full["unknown-1"] == ("event0003", "event0002", "event0001"), full
    assert full["unknown-2"] == ("event0004",)
    recent = {r.label: r.event_ids for r in list_unknown(visits.engine, recent_events=2)}
    assert recent == {"unknown-1": ("event0003", "event0002"), "unknown-2": ("event0004",)}
    # `faces unknown` as text: the identities with their counts, no event ids at all.
    bare = {r.label: (r.events, r.event_ids) for r in list_unknown(visits.engine, 0)}
    assert bare == {"unknown-1": (3, ()), "unknown-2": (1, ())}
