"""`watcher faces check` under the open-set rule: bounds, look-alikes, advice, a safe suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gallery import put
from tests.support.media import FACES, MEDIA
from watcher.core import FaceEngine
from watcher.faces.report import check_gallery

PEOPLE = MEDIA / "people"


def test_look_alikes_with_one_photo_each_get_a_suggestion_below_their_distance(
    tmp_path: Path, face_engine: FaceEngine
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "e", PEOPLE / "person_e_3.jpg")  # 0.51 from person_f_2: dlib's 0.6 mixes them
    put(folder, "f", PEOPLE / "person_f_2.jpg")
    put(folder, "h", PEOPLE / "person_h_1.jpg")
    report = check_gallery(face_engine, folder, 0.6)
    assert report.different_min is not None and report.different_min < 0.6
    assert report.suggested_tolerance < report.different_min  # never at or above two people
    # Each look-alike's bound sits between their own looks and the other one.
    assert report.bounds["e"] < report.different_min and report.bounds["f"] < 0.6
    assert report.bounds["h"] > report.bounds["e"]  # far from everyone: a wider bound
    assert any("one photo" in line and line.startswith("e ") for line in report.advice)


def test_one_person_under_two_names_cannot_be_told_apart(
    tmp_path: Path, face_engine: FaceEngine
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    put(folder, "barack", FACES / "obama_2.jpg")
    put(folder, "biden", FACES / "biden_1.jpg")
    report = check_gallery(face_engine, folder, 0.6)
    assert [c.people for c in report.unclear] == [("barack", "obama")]
    assert not report.ok
    assert any("barack and obama" in line for line in report.advice)


def test_names_in_any_language_are_accepted_and_unsafe_ones_refused() -> None:
    from watcher.faces.manage import GalleryError, validate_name

    for name in ("José", "Zoë", "李雷", "j.smith", "anna-lena"):
        assert validate_name(name) == name
    for bad in ("../x", ".hidden", "a/b", "a b", "_x", "-x", "x" * 64, "a\\b"):
        with pytest.raises(GalleryError, match="invalid name"):
            validate_name(bad)
