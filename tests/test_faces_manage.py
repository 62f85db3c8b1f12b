"""Gallery management (`watcher faces list|add|remove|check`) with the real dlib models."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gallery import CountingEngine, put, reencode
from tests.support.media import FACES, STILLS
from watcher.faces.gallery import load_gallery
from watcher.faces.manage import (
    GalleryError,
    add_images,
    list_people,
    remove,
)
from watcher.faces.report import check_gallery

TOLERANCE = 0.6


def clean_gallery(folder: Path) -> Path:
    """Every photo of faces/ under its person's name."""
    for photo in FACES.iterdir():
        put(folder, photo.stem.rsplit("_", 1)[0], photo)
    return folder


def test_list_people_with_counts_and_rejections(
    tmp_path: Path, face_engine: CountingEngine
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    put(folder, "obama", FACES / "obama_2.jpg")
    (folder / "biden.jpg").write_bytes((FACES / "biden_1.jpg").read_bytes())
    put(folder, "crowd", STILLS / "two_people.jpg")
    (folder / "obama" / "empty.png").write_bytes(b"")

    listing = list_people(face_engine, folder)
    people = {p.name: (len(p.images), [r.reason for r in p.rejected]) for p in listing.people}
    assert people == {
        "biden": (1, []),
        "crowd": (0, ["2 faces found; a gallery image must show exactly one"]),
        "obama": (2, ["empty file"]),
    }
    assert {r.path.name for r in listing.rejected} == {"two_people.jpg", "empty.png"}


def test_add_accepts_one_usable_face_and_says_why_it_refuses(
    tmp_path: Path, counting: CountingEngine
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    empty = tmp_path / "in" / "empty.jpg"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    tiny = reencode(STILLS / "obama_3.jpg", tmp_path / "in" / "tiny.jpg", 90, max_side=480)
    results = add_images(
        counting,
        folder,
        "obama",
        [
            STILLS / "obama_3.jpg",
            STILLS / "two_people.jpg",
            empty,
            tmp_path / "missing.jpg",
            tiny,
            FACES / "obama_1.jpg",  # already there
            tmp_path / "notes.txt",
        ],
    )
    by_name = {r.source.name: r for r in results}
    ok = by_name["obama_3.jpg"]
    assert ok.accepted and ok.dest == folder / "obama" / "obama_3.jpg" and ok.face_px
    assert ok.dest.read_bytes() == (STILLS / "obama_3.jpg").read_bytes()
    assert (
        by_name["two_people.jpg"].reason == "2 faces found; a gallery image must show exactly one"
    )
    assert by_name["empty.jpg"].reason == "empty file"
    assert (by_name["missing.jpg"].reason or "").startswith("cannot read")
    assert "px tall; at least 80 px needed" in (by_name["tiny.jpg"].reason or "")
    assert (by_name["obama_1.jpg"].reason or "").startswith("already in the gallery as")
    assert (by_name["notes.txt"].reason or "").startswith("unsupported file type")
    assert [r.accepted for r in results].count(True) == 1
    assert sorted(p.name for p in (folder / "obama").iterdir()) == ["obama_1.jpg", "obama_3.jpg"]

    # Never overwrite: a different photo with the same file name gets a new name.
    other = reencode(STILLS / "obama_3.jpg", tmp_path / "again" / "obama_3.jpg", 80)
    (second,) = add_images(counting, folder, "obama", [other])
    assert second.accepted and second.dest == folder / "obama" / "obama_3-2.jpg"

    # What add embedded is in the cache before the files appear: loading costs nothing.
    counting.reset()
    gallery = load_gallery(counting, folder)
    assert counting.calls == 0 and gallery.people == {"obama": 3}


@pytest.mark.parametrize("name", ["../x", ".hidden", "a/b", "", "-x", "x" * 64])
def test_add_refuses_unsafe_names(tmp_path: Path, face_engine: CountingEngine, name: str) -> None:
    with pytest.raises(GalleryError, match="invalid name"):
        add_images(face_engine, tmp_path / "known_faces", name, [STILLS / "obama_3.jpg"])
    assert not (tmp_path / "x").exists()


def test_remove_a_person_an_image_and_a_single_file(tmp_path: Path) -> None:
    folder = tmp_path / "known_faces"
    a = put(folder, "obama", FACES / "obama_1.jpg")
    b = put(folder, "obama", FACES / "obama_2.jpg")
    single = folder / "biden.jpg"
    single.write_bytes((FACES / "biden_1.jpg").read_bytes())
    outside = tmp_path / "x"
    outside.write_text("keep me")

    for name, image in [("../x", None), ("..", None), ("obama", "../biden.jpg"), ("obama", "..")]:
        with pytest.raises(GalleryError, match="invalid"):
            remove(folder, name, image)
    with pytest.raises(GalleryError, match="no person named 'carol'"):
        remove(folder, "carol")
    with pytest.raises(GalleryError, match="has no image 'nope.jpg'"):
        remove(folder, "obama", "nope.jpg")
    assert outside.read_text() == "keep me"

    assert remove(folder, "obama", "obama_1.jpg") == [a]
    assert remove(folder, "obama") == [b, folder / "obama"]
    assert not (folder / "obama").exists()
    assert remove(folder, "biden", "biden.jpg") == [single]
    assert list(folder.iterdir()) == []


def test_check_a_clean_gallery_suggests_a_tolerance(
    tmp_path: Path, face_engine: CountingEngine
) -> None:
    report = check_gallery(face_engine, clean_gallery(tmp_path / "known_faces"), TOLERANCE)
    assert report.ok, report
    assert report.same_max is not None and report.same_max <= 0.52
    # The media README says >= 0.70; with the gallery's detection boxes it is 0.698.
    assert report.different_min is not None and report.different_min > 0.69
    assert 0.52 <= report.suggested_tolerance <= 0.70


def test_check_flags_a_mix_up_and_confusable_people(
    tmp_path: Path, face_engine: CountingEngine
) -> None:
    folder = clean_gallery(tmp_path / "known_faces")
    put(folder, "obama", FACES / "biden_1.jpg")  # someone else's photo in obama/
    put(folder, "barack", FACES / "obama_2.jpg", "barack.jpg")  # one person, two names
    put(folder, "crowd", STILLS / "two_people.jpg")
    reencode(FACES / "biden_2.jpg", folder / "biden" / "small.jpg", 90, max_side=150)

    report = check_gallery(face_engine, folder, TOLERANCE)
    assert not report.ok
    (mixed,) = report.disagreements
    assert mixed.person == "obama" and mixed.distance > TOLERANCE
    assert mixed.outlier == folder / "obama" / "biden_1.jpg"
    pairs = {c.people: c for c in report.confusions}
    assert set(pairs) == {("barack", "obama"), ("biden", "obama")}
    assert pairs["barack", "obama"].pair == (
        folder / "barack" / "barack.jpg",
        folder / "obama" / "obama_2.jpg",
    )
    assert pairs["biden", "obama"].pair == (
        folder / "biden" / "biden_1.jpg",
        folder / "obama" / "biden_1.jpg",
    )
    assert [s.path.name for s in report.small_faces] == ["small.jpg"]
    assert [r.path.name for r in report.rejected] == ["two_people.jpg"]
    # With a mix-up in the data, no tolerance is inferred from it.
    assert report.suggested_tolerance == TOLERANCE
