"""Gallery photos that used to be refused: tight crops of a face, small photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.support.media import FACES, MEDIA
from watcher.core import FaceEngine
from watcher.faces.gallery import find_face, read_rgb

PEOPLE = MEDIA / "people"


@pytest.mark.parametrize("photo", [FACES / "obama_1.jpg", PEOPLE / "person_e_3.jpg"])
def test_a_tight_crop_of_a_face_is_accepted_and_embeds_as_the_photo(
    face_engine: FaceEngine, photo: object
) -> None:
    rgb = read_rgb(photo)  # type: ignore[arg-type]
    picture, box = find_face(face_engine, rgb)
    inset = box.height * 3 // 20  # 15 % inside the box on each side
    tight = np.ascontiguousarray(
        rgb[box.top + inset : box.bottom - inset, box.left + inset : box.right - inset]
    )
    # HOG needs a margin around a face: without the padding this finds nothing.
    assert face_engine.detect(tight, 40) == []
    cropped, cropped_box = find_face(face_engine, tight)
    whole = face_engine.embed(picture, [box])[0]
    again = face_engine.embed(cropped, [cropped_box])[0]
    own = float(np.linalg.norm(whole - again))
    # A crop that cuts into the brow and chin embeds farther than a whole photo,
    # but still as its person: within dlib's tolerance, and nearer than anyone else.
    assert own < 0.6
    for other in (
        FACES / "biden_1.jpg",
        FACES / "lin_manuel_miranda_1.png",
        PEOPLE / "person_f_2.jpg",
    ):
        o_picture, o_box = find_face(face_engine, read_rgb(other))
        assert np.linalg.norm(face_engine.embed(o_picture, [o_box])[0] - again) > own


def test_a_small_photo_is_searched_for_small_faces(face_engine: FaceEngine) -> None:
    rgb = read_rgb(FACES / "biden_1.jpg")
    _, box = find_face(face_engine, rgb)
    face = np.ascontiguousarray(rgb[box.top : box.bottom, box.left : box.right])
    tiny = cv2.resize(face, (70, 70), interpolation=cv2.INTER_AREA)
    _, found = find_face(face_engine, np.ascontiguousarray(tiny))
    assert 40 <= found.height <= 90
