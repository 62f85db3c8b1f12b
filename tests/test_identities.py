"""Unknown identities with the real dlib models: grouping, naming, privacy expiry, retention."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from tests.support.cli import watcher, write_config
from tests.support.media import FACES, STILLS
from tests.support.schema import schema_diffs
from watcher.config import WatcherConfig
from watcher.config.sections import PrivacyConfig
from watcher.core import Box, Embeddings, FaceEngine, RGBImage, box_height
from watcher.faces.gallery import load_gallery, read_rgb
from watcher.faces.manage import GalleryError
from watcher.housekeeping import enforce, expire_unknown, expiry_pass
from watcher.record.paths import event_paths
from watcher.record.snapshot import crop, write_jpeg
from watcher.store import (
    EventIdentity,
    IdentityRecord,
    Sighting,
    SightingData,
    StoreWriter,
    UnknownIdentity,
    downgrade,
    from_blob,
    get_event,
    head_revision,
    init_db,
    list_unknown,
    make_engine,
    to_blob,
    upgrade,
)
from watcher.usecases import name_identity

WAIT_S = 20.0
TOLERANCE = 0.6
NOW = datetime.now(UTC).replace(microsecond=0)
PHOTOS = {
    "obama_1": FACES / "obama_1.jpg",
    "obama_2": FACES / "obama_2.jpg",
    "obama_3": STILLS / "obama_3.jpg",
    "biden_1": FACES / "biden_1.jpg",
}


@dataclass(frozen=True)
class Face:
    """One real photo's face, as the pipeline would see it."""

    rgb: RGBImage
    box: Box
    vector: Embeddings


@pytest.fixture(scope="module")
def faces(face_engine: FaceEngine) -> dict[str, Face]:
    out = {}
    for key, path in PHOTOS.items():
        rgb = read_rgb(path)
        box = max(face_engine.detect(rgb, 60), key=box_height)
        out[key] = Face(rgb, box, face_engine.embed(rgb, [box])[0])
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database on each backend (PostgreSQL skipped where it is not installed)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'watcher.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database()
    engine = make_engine(url)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_db(engine: Engine) -> Engine:
    """The conftest's SQLite database, by the name these tests give it."""
    return engine


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@dataclass
class Scene:
    """Events fed to a real StoreWriter the way the pipeline feeds it."""

    writer: StoreWriter
    engine: Engine
    recordings: Path
    faces: dict[str, Face]
    crops: int = 0

    def event(
        self, event_id: str, camera: str, started_at: datetime, host: str = "pi-1"
    ) -> datetime:
        self.writer.open_event(event_id, camera, started_at, host=host)
        return started_at

    def see(
        self,
        event_id: str,
        camera: str,
        started_at: datetime,
        key: str,
        *,
        at: datetime | None = None,
        name: str | None = None,
    ) -> Path:
        """One sighting of a face, its crop written next to the clip as the pipeline does."""
        face = self.faces[key]
        self.crops += 1
        clip = event_paths(self.recordings, camera, started_at, event_id).clip
        path = clip.with_name(f"{clip.stem}-face-{self.crops}.jpg")
        write_jpeg(path, crop(face.rgb, face.box))
        at = at or started_at
        self.writer.add_sightings(
            event_id,
            [
                SightingData(
                    at=at,
                    offset_s=(at - started_at).total_seconds(),
                    box=face.box,
                    name=name,
                    distance=0.8,
                    embedding=to_blob(face.vector),
                    crop_path=str(path),
                )
            ],
        )
        return path

    def close(self, event_id: str, ended_at: datetime, clip: Path | None = None) -> None:
        if clip is not None:
            clip.write_bytes(b"\0" * 1000)
        self.writer.close_event(event_id, ended_at, clip_path=None if clip is None else str(clip))

    def flush(self) -> None:
        assert self.writer.flush(WAIT_S)


@pytest.fixture
def scene(db: Engine, recordings: Path, faces: dict[str, Face]) -> Iterator[Scene]:
    writer = StoreWriter(db).start()
    yield Scene(writer, db, recordings, faces)
    assert writer.stop(WAIT_S)


@pytest.fixture
def sqlite_scene(sqlite_db: Engine, recordings: Path, faces: dict[str, Face]) -> Iterator[Scene]:
    writer = StoreWriter(sqlite_db).start()
    yield Scene(writer, sqlite_db, recordings, faces)
    assert writer.stop(WAIT_S)


def by_label(engine: Engine) -> dict[str, IdentityRecord]:
    return {r.label: r for r in list_unknown(engine)}


def identity_of(engine: Engine, crop_path: Path) -> str | None:
    """The label of the identity the sighting with this crop was grouped into."""
    with Session(engine) as session:
        return session.scalar(
            select(UnknownIdentity.label)
            .join(Sighting, Sighting.identity_id == UnknownIdentity.id)
            .where(Sighting.crop_path == str(crop_path))
        )


def links(engine: Engine) -> set[tuple[str, str]]:
    with Session(engine) as session:
        query = select(EventIdentity.event_id, UnknownIdentity.label).join(
            UnknownIdentity, UnknownIdentity.id == EventIdentity.identity_id
        )
        return {(e, label) for e, label in session.execute(query)}


def two_visits(scene: Scene) -> tuple[str, str, dict[str, Path]]:
    """Obama at the front door (event A), then obama and biden at the garage (event B)."""
    a, b = NOW - timedelta(hours=2), NOW - timedelta(hours=1)
    scene.event("a" * 12, "front_door", a)
    crops = {"obama_1": scene.see("a" * 12, "front_door", a, "obama_1")}
    scene.event("b" * 12, "garage", b)
    crops["obama_3"] = scene.see("b" * 12, "garage", b, "obama_3", at=b + timedelta(seconds=1))
    crops["biden_1"] = scene.see("b" * 12, "garage", b, "biden_1", at=b + timedelta(seconds=1))
    scene.flush()
    obama, biden = (
        identity_of(scene.engine, crops["obama_1"]),
        identity_of(scene.engine, crops["biden_1"]),
    )
    assert obama is not None and biden is not None
    return obama, biden, crops


# -- grouping ------------------------------------------------------------------------------


def test_one_person_in_two_events_on_two_cameras_is_one_identity(scene: Scene, db: Engine) -> None:
    obama, biden, crops = two_visits(scene)
    assert obama != biden  # two different people: two identities
    assert identity_of(db, crops["obama_3"]) == obama  # the same person: one
    found = by_label(db)
    assert set(found) == {obama, biden}
    assert obama.startswith("unknown-") and biden.startswith("unknown-")
    o, b = found[obama], found[biden]
    assert (o.events, o.sightings, b.events, b.sightings) == (2, 2, 1, 1)
    assert o.first_seen == NOW - timedelta(hours=2)
    assert o.last_seen == NOW - timedelta(hours=1, seconds=-1)
    assert o.event_ids == ("b" * 12, "a" * 12)  # newest first
    # The representative crop is the one of the largest face (obama_3: 278 px vs 233 px).
    assert o.crop_path == str(crops["obama_3"]) and o.named_as is None
    assert links(db) == {("a" * 12, obama), ("b" * 12, obama), ("b" * 12, biden)}
    # The centroid is the mean of both embeddings (stored as float32).
    with Session(db) as session:
        row = session.scalar(select(UnknownIdentity).where(UnknownIdentity.label == obama))
        assert row is not None
        expected = (scene.faces["obama_1"].vector + scene.faces["obama_3"].vector) / 2
        assert np.allclose(from_blob(row.centroid), expected, atol=1e-5)


def test_another_sighting_in_the_same_event_counts_the_event_once(scene: Scene, db: Engine) -> None:
    obama, _, _ = two_visits(scene)
    b = NOW - timedelta(hours=1)
    scene.see("b" * 12, "garage", b, "obama_2", at=b + timedelta(seconds=5))
    scene.flush()
    o = by_label(db)[obama]
    assert (o.events, o.sightings) == (2, 3)
    assert o.crop_path is not None and o.crop_path.endswith("-face-4.jpg")  # obama_2: 334 px


def test_only_unknown_faces_with_an_embedding_are_grouped(
    sqlite_scene: Scene, sqlite_db: Engine
) -> None:
    scene = sqlite_scene
    t = NOW - timedelta(minutes=5)
    scene.event("c" * 12, "front_door", t)
    scene.see("c" * 12, "front_door", t, "obama_1", name="obama")  # known: not kept, not grouped
    scene.writer.add_sightings("c" * 12, [SightingData(at=t, offset_s=0.0, box=(1, 2, 3, 4))])
    scene.flush()
    assert list_unknown(sqlite_db) == []
    with Session(sqlite_db) as session:
        rows = session.scalars(select(Sighting)).all()
        assert len(rows) == 2
        assert all(r.embedding is None and r.identity_id is None for r in rows)
    with pytest.raises(ValueError, match="512 bytes"):
        SightingData(at=t, offset_s=0.0, box=(1, 2, 3, 4), embedding=b"\0" * 100)


def test_a_failing_write_does_not_stop_grouping(sqlite_scene: Scene, sqlite_db: Engine) -> None:
    scene = sqlite_scene
    t = NOW - timedelta(minutes=5)
    scene.see("f" * 12, "front_door", t, "obama_1")  # no such event: dropped, logged
    scene.event("d" * 12, "front_door", t)
    scene.see("d" * 12, "front_door", t, "obama_3")
    scene.flush()
    [only] = list_unknown(sqlite_db)
    assert (only.events, only.sightings) == (1, 1)


def test_group_distance_is_the_writers_parameter(
    sqlite_db: Engine, recordings: Path, faces: dict[str, Face]
) -> None:
    with pytest.raises(ValueError):
        StoreWriter(sqlite_db, group_distance=0)
    # A tiny distance: even one person's two photos are two identities.
    writer = StoreWriter(sqlite_db, group_distance=0.05).start()
    try:
        scene = Scene(writer, sqlite_db, recordings, faces)
        t = NOW - timedelta(minutes=5)
        scene.event("e" * 12, "front_door", t)
        scene.see("e" * 12, "front_door", t, "obama_1")
        scene.see("e" * 12, "front_door", t, "obama_3")
        scene.flush()
    finally:
        assert writer.stop(WAIT_S)
    assert len(list_unknown(sqlite_db)) == 2


def test_two_hosts_grouping_at_once_agree(
    db: Engine, recordings: Path, faces: dict[str, Face]
) -> None:
    """Two writers (two hosts on one database) see the same stranger at the same time."""
    url = db.url.render_as_string(hide_password=False)
    other = make_engine(url)
    writers = [StoreWriter(db).start(), StoreWriter(other).start()]
    try:
        scenes = [Scene(w, e, recordings, faces) for w, e in zip(writers, (db, other), strict=True)]
        t = NOW - timedelta(minutes=5)
        for n, scene in enumerate(scenes):
            scene.event(f"{n}" * 12, f"cam{n}", t, host=f"pi-{n}")
            scene.flush()
        for i in range(5):
            for n, scene in enumerate(scenes):
                key = ("obama_1", "obama_3")[(i + n) % 2]
                scene.see(f"{n}" * 12, f"cam{n}", t, key, at=t + timedelta(seconds=i))
        for scene in scenes:
            scene.flush()
    finally:
        for writer in writers:
            assert writer.stop(WAIT_S)
        other.dispose()
    [only] = list_unknown(db)
    assert (only.events, only.sightings) == (2, 10)


# -- naming ----------------------------------------------------------------------------------


def test_naming_an_identity_teaches_the_gallery_and_relabels_its_past(
    scene: Scene, db: Engine, face_engine: FaceEngine, tmp_path: Path
) -> None:
    obama, biden, crops = two_visits(scene)
    known = tmp_path / "known_faces"
    result = name_identity(db, obama, "obama", known, face_engine=face_engine)
    assert result.label == obama and result.name == "obama"
    assert len(result.photos) == 2 and result.refused == ()
    assert {p.parent for p in result.photos} == {known / "obama"}
    assert (result.events, result.sightings) == (2, 2)
    # The events keep their data; their sightings of that person now carry the name.
    for event_id in ("a" * 12, "b" * 12):
        event = get_event(db, event_id)
        assert event is not None and event.sightings is not None
        names = {s.name for s in event.sightings}
        assert "obama" in names
    assert by_label(db)[obama].named_as == "obama"
    assert by_label(db)[biden].named_as is None
    # From now on the gallery knows obama, from a photo it never saw (obama_2).
    gallery = load_gallery(face_engine, known)
    assert gallery.people == {"obama": 2}
    [hit, miss] = gallery.match(
        np.vstack([scene.faces["obama_2"].vector, scene.faces["biden_1"].vector]), TOLERANCE
    )
    assert hit.name == "obama" and miss.name is None
    # A stranger sighting that still reaches the identity (before a reload) gets the name.
    b = NOW - timedelta(hours=1)
    late = scene.see("b" * 12, "garage", b, "obama_2", at=b + timedelta(seconds=9))
    scene.flush()
    with Session(db) as session:
        assert session.scalar(select(Sighting.name).where(Sighting.crop_path == str(late))) == (
            "obama"
        )


def test_naming_refuses_what_it_cannot_do(
    scene: Scene, db: Engine, face_engine: FaceEngine, tmp_path: Path
) -> None:
    obama, biden, crops = two_visits(scene)
    known = tmp_path / "known_faces"
    with pytest.raises(GalleryError, match="no unknown identity 'unknown-999'"):
        name_identity(db, "unknown-999", "alice", known, face_engine=face_engine)
    with pytest.raises(GalleryError, match="invalid name"):
        name_identity(db, obama, "../alice", known, face_engine=face_engine)
    # A crop without a usable face: nothing is copied and nothing relabelled.
    blank = np.full((300, 300, 3), 128, dtype=np.uint8)
    assert cv2.imwrite(str(crops["biden_1"]), blank)
    with pytest.raises(GalleryError, match="no crop of .* is usable.*no face found"):
        name_identity(db, biden, "biden", known, face_engine=face_engine)
    assert not (known / "biden").exists() and by_label(db)[biden].named_as is None
    crops["biden_1"].unlink()
    with pytest.raises(GalleryError, match="no face crop left"):
        name_identity(db, biden, "biden", known, face_engine=face_engine)
    name_identity(db, obama, "obama", known, face_engine=face_engine, max_photos=1)
    assert len(list((known / "obama").iterdir())) == 1
    with pytest.raises(GalleryError, match="already named 'obama'"):
        name_identity(db, obama, "barack", known, face_engine=face_engine)


# -- privacy expiry --------------------------------------------------------------------------


def test_expiry_removes_old_embeddings_crops_and_identities_together(
    scene: Scene, db: Engine, recordings: Path
) -> None:
    old, new = NOW - timedelta(days=40), NOW - timedelta(days=1)
    scene.event("o" * 12, "front_door", old)
    o2 = scene.see("o" * 12, "front_door", old, "obama_2")
    b1 = scene.see("o" * 12, "front_door", old, "biden_1")
    scene.event("n" * 12, "front_door", new)
    o3 = scene.see("n" * 12, "front_door", new, "obama_3")
    scene.event("x" * 12, "garage", old, host="pi-2")  # another host's crop: its own to delete
    x1 = scene.see("x" * 12, "garage", old, "obama_1")
    scene.flush()
    obama, biden = identity_of(db, o2), identity_of(db, b1)
    assert obama is not None and biden is not None and identity_of(db, o3) == obama
    assert by_label(db)[obama].crop_path == str(o2)  # obama_2 is the largest face

    report = expire_unknown(db, recordings, 30, now=NOW, host="pi-1")
    assert (report.embeddings, report.crops, report.identities) == (3, 2, 1)
    assert (report.failed_files, report.foreign_crops) == (0, 1)
    assert not o2.exists() and not b1.exists() and o3.exists() and x1.exists()
    with Session(db) as session:
        rows = {s.crop_path or s.event_id: s for s in session.scalars(select(Sighting))}
    assert set(rows) == {"o" * 12, str(o3), str(x1)}
    assert all(s.embedding is None for k, s in rows.items() if k != str(o3))
    assert rows[str(o3)].embedding is not None
    found = by_label(db)
    assert set(found) == {obama}  # biden was last seen 40 days ago: forgotten
    assert found[obama].crop_path == str(o3)  # its largest crop expired: the next one
    assert found[obama].last_seen == new
    assert {label for _, label in links(db)} == {obama}
    # The event rows and their clips are retention's business, not expiry's.
    assert get_event(db, "o" * 12) is not None
    # Nothing left to do: a second pass is a no-op.
    again = expiry_pass(db, recordings, 30, host="pi-1")
    assert again is not None and (again.embeddings, again.crops, again.identities) == (0, 0, 0)


def test_expiry_keeps_a_crop_it_could_not_delete_for_the_next_pass(
    sqlite_scene: Scene, sqlite_db: Engine, recordings: Path
) -> None:
    scene = sqlite_scene
    old = NOW - timedelta(days=40)
    scene.event("o" * 12, "front_door", old)
    o1 = scene.see("o" * 12, "front_door", old, "obama_1")
    scene.flush()
    # Something unlink() cannot remove (works as root too, unlike permissions).
    o1.unlink()
    (o1 / "inside").mkdir(parents=True)
    report = expire_unknown(sqlite_db, recordings, 30, now=NOW)
    assert "Is a directory" in report.summary()
    (o1 / "inside").rmdir()
    o1.rmdir()
    o1.write_bytes(b"crop")
    assert report.failed_files == 1 and report.crops == 0 and o1.exists()
    with Session(sqlite_db) as session:
        assert session.scalar(select(Sighting.crop_path)) == str(o1)
    assert expire_unknown(sqlite_db, recordings, 30, now=NOW).crops == 1
    assert not o1.exists()


def test_expiry_pass_never_raises(tmp_path: Path, recordings: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: every query fails
    try:
        assert expiry_pass(engine, recordings, 30) is None
    finally:
        engine.dispose()


def test_privacy_config() -> None:
    assert PrivacyConfig().unknown_faces_days == 30
    cfg = WatcherConfig.model_validate({"cameras": {"cam": {"source": "demo"}}})
    assert cfg.privacy.unknown_faces_days == 30
    cfg = WatcherConfig.model_validate(
        {"privacy": {"unknown_faces_days": 7}, "cameras": {"cam": {"source": "demo"}}}
    )
    assert cfg.privacy.unknown_faces_days == 7
    for bad in (0, 3651):
        with pytest.raises(ValueError, match="unknown_faces_days"):
            PrivacyConfig(unknown_faces_days=bad)


# -- retention -------------------------------------------------------------------------------


def test_retention_removes_crops_with_their_event_and_keeps_referenced_ones(
    sqlite_scene: Scene, sqlite_db: Engine, recordings: Path
) -> None:
    scene = sqlite_scene
    old, new = NOW - timedelta(days=20), NOW - timedelta(days=2)
    paths = {
        eid: event_paths(recordings, "front_door", t, eid)
        for eid, t in (("o" * 12, old), ("n" * 12, new))
    }
    scene.event("o" * 12, "front_door", old)
    o2 = scene.see("o" * 12, "front_door", old, "obama_2")
    b1 = scene.see("o" * 12, "front_door", old, "biden_1")
    scene.close("o" * 12, old + timedelta(seconds=9), paths["o" * 12].clip)
    scene.event("n" * 12, "front_door", new)
    o3 = scene.see("n" * 12, "front_door", new, "obama_3")
    scene.close("n" * 12, new + timedelta(seconds=9), paths["n" * 12].clip)
    scene.flush()
    obama, biden = identity_of(sqlite_db, o2), identity_of(sqlite_db, b1)
    # An unreferenced crop of the kept event (a lost write), old enough to be no work in progress.
    stray = o3.with_name(o3.name.replace("-face-3", "-face-99"))
    stray.write_bytes(b"x")
    long_ago = (NOW - timedelta(hours=1)).timestamp()
    for path in (o2, b1, o3, stray):
        os.utime(path, (long_ago, long_ago))

    report = enforce(
        sqlite_db, recordings, max_age_days=14, max_disk_gb=None, min_free_gb=None, now=NOW
    )
    assert report.removed == {"age": 1} and report.orphan_files == 1
    assert not o2.exists() and not b1.exists() and not paths["o" * 12].clip.exists()
    assert o3.exists() and paths["n" * 12].clip.exists()  # referenced by its sighting: kept
    assert not stray.exists()
    found = by_label(sqlite_db)
    assert obama is not None and biden is not None
    # Counts and crops now describe what is stored; the identities stay until privacy expiry.
    assert (found[obama].events, found[obama].sightings) == (1, 1)
    assert found[obama].crop_path == str(o3)
    assert (found[biden].events, found[biden].sightings, found[biden].crop_path) == (0, 0, None)
    assert links(sqlite_db) == {("n" * 12, obama)}
    # A second pass keeps the referenced crop.
    enforce(sqlite_db, recordings, max_age_days=14, max_disk_gb=None, min_free_gb=None, now=NOW)
    assert o3.exists()


# -- schema ----------------------------------------------------------------------------------


def test_migrations_0003_and_0004_up_and_down_keep_rows(
    sqlite_scene: Scene, sqlite_db: Engine
) -> None:
    assert head_revision() == "0006"
    assert schema_diffs(sqlite_db) == []
    t = NOW - timedelta(minutes=5)
    sqlite_scene.event("m" * 12, "front_door", t)
    sqlite_scene.see("m" * 12, "front_door", t, "obama_1")
    sqlite_scene.flush()
    downgrade(sqlite_db, "0002")  # SQLite copies the table: its rows must survive
    with sqlite_db.connect() as conn:  # the models are ahead of this schema: plain SQL
        assert conn.execute(text("SELECT count(*) FROM sightings")).scalar_one() == 1
    assert upgrade(sqlite_db) == "0006"
    assert schema_diffs(sqlite_db) == [] and list_unknown(sqlite_db) == []


# -- command line ------------------------------------------------------------------------------


def test_cli_lists_unknown_identities_and_names_one(tmp_path: Path, faces: dict[str, Face]) -> None:
    config = write_config(tmp_path)
    recordings = tmp_path / "recordings"
    engine = make_engine(f"sqlite:///{recordings / 'watcher.db'}")
    init_db(engine)
    writer = StoreWriter(engine).start()
    try:
        obama, biden, _ = two_visits(Scene(writer, engine, recordings, faces))
    finally:
        assert writer.stop(WAIT_S)
        engine.dispose()

    listed = watcher("faces", "unknown", "--json", "-c", str(config))
    assert listed.returncode == 0, listed.stderr
    doc = {item["label"]: item for item in json.loads(listed.stdout)}
    assert set(doc) == {obama, biden}
    assert doc[obama]["events"] == 2 and doc[obama]["named_as"] is None
    assert Path(doc[obama]["crop"]).is_file()
    assert datetime.fromisoformat(doc[obama]["last_seen"]).tzinfo is not None

    named = watcher("faces", "name", obama, "obama", "-c", str(config))
    assert named.returncode == 0, named.stderr
    assert named.stdout.count("added ") == 2
    assert f"{obama} is now obama" in named.stdout and "2 event(s)" in named.stdout
    assert len(list((tmp_path / "known_faces" / "obama").iterdir())) == 2

    text = watcher("faces", "unknown", "-c", str(config))
    assert text.returncode == 0 and "named obama" in text.stdout and biden in text.stdout
    bad = watcher("faces", "name", "unknown-999", "alice", "-c", str(config))
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "watcher: no unknown identity 'unknown-999' (see `watcher faces unknown`)"
    ]
