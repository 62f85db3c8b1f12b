"""Looks learned at a camera: which visits teach, where they are kept, how they are undone."""

from __future__ import annotations

import time
from pathlib import Path

import av
import cv2
import numpy as np

from tests.support.decide import alice, at, rule
from tests.support.gallery import put
from tests.support.media import FACES, MEDIA, VIDEO
from watcher.core import FaceEngine
from watcher.decide.tracker import Decider
from watcher.faces import learned
from watcher.faces.gallery import embed_photo, load_gallery
from watcher.faces.manage import add_images, list_people, remove
from watcher.faces.reload import GalleryWatcher

BOX = (100, 200, 200, 100)
WAIT_S = 20.0


def test_a_sure_visit_teaches_one_look_and_an_unclear_one_none() -> None:
    sure = Decider(confirm_frames=2)
    lessons = []
    for i in range(6):
        lessons += sure.update(i * 0.2, [(BOX, alice())], rule()).lessons
    assert [person for person, _ in lessons] == ["alice"]  # once per visit
    near_the_bound = Decider(confirm_frames=2)  # known (0.52 < 0.55), but not by much
    for i in range(6):
        assert not near_the_bound.update(i * 0.2, [(BOX, at(0.52))], rule()).lessons
    stranger = Decider(confirm_frames=2)
    for i in range(6):
        assert not stranger.update(i * 0.2, [(BOX, at(0.8))], rule()).lessons


def test_learned_looks_are_kept_apart_bounded_new_and_forgotten(
    tmp_path: Path, face_engine: FaceEngine
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    vector = embed_photo(face_engine, FACES / "obama_2.jpg")
    before = load_gallery(face_engine, folder).fingerprint
    assert learned.add(folder, "obama", vector, "door")
    assert not learned.add(folder, "obama", vector + 0.001, "door")  # nothing new
    gallery = load_gallery(face_engine, folder)
    assert gallery.fingerprint != before  # a running daemon reloads
    assert gallery.names == ["obama"] and gallery.learned_names == ["obama"]
    assert list_people(face_engine, folder).people[0].learned == 1
    rng = np.random.default_rng(1)
    for _ in range(learned.MAX_PER_PERSON + 3):
        learned.add(folder, "obama", vector + rng.normal(0, 0.05, vector.shape), "door")
    assert len(learned.load(folder, "obama")) == learned.MAX_PER_PERSON
    # Learned looks of someone with no photos do not count (nor make a person).
    assert learned.add(folder, "ghost", vector, "door")
    assert "ghost" not in load_gallery(face_engine, folder).people
    assert learned.forget(folder, "obama") == learned.MAX_PER_PERSON
    assert load_gallery(face_engine, folder).learned_names == []
    learned.add(folder, "obama", vector, "door")
    remove(folder, "obama")  # removing the person removes what was learned of them
    assert learned.load(folder, "obama").cameras == []


def test_the_gallery_watcher_writes_offered_looks_and_reloads(
    tmp_path: Path, face_engine: FaceEngine
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    watcher = GalleryWatcher(face_engine, folder, settle_s=0).start(interval_s=0.1)
    try:
        watcher.offer("obama", embed_photo(face_engine, FACES / "obama_2.jpg"), "door")
        deadline = time.monotonic() + WAIT_S
        while not watcher.current().learned_names and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.current().learned_names == ["obama"]
        assert learned.load(folder, "obama").cameras == ["door"]
    finally:
        assert watcher.stop()


def _slideshow(photos: list[Path], path: Path, seconds_each: float = 1.0) -> Path:
    """A short H.264 video showing each photo in turn (letterboxed to 640x480)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        for photo in photos:
            bgr = cv2.imread(str(photo))
            scale = min(640 / bgr.shape[1], 480 / bgr.shape[0])
            small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            canvas = np.zeros((480, 640, 3), np.uint8)
            canvas[: small.shape[0], : small.shape[1]] = small
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB), "rgb24")
            for _ in range(round(10 * seconds_each)):
                out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_faces_add_takes_a_handful_of_good_looks_from_a_video(
    tmp_path: Path, face_engine: FaceEngine
) -> None:
    folder = tmp_path / "known_faces"
    (result, *more) = add_images(face_engine, folder, "man", [VIDEO / "single_face.mp4"])
    kept = [result, *more]
    assert 1 <= len(kept) <= 5 and all(r.accepted for r in kept), kept
    gallery = load_gallery(face_engine, folder)
    assert gallery.people == {"man": len(kept)}  # every kept frame is a usable photo
    if len(kept) > 1:  # different looks, not the same frame twice
        d = np.linalg.norm(gallery.matrix[0] - gallery.matrix[1])
        assert d > 0.01


def test_a_video_of_two_people_is_refused(tmp_path: Path, face_engine: FaceEngine) -> None:
    people = MEDIA / "people"
    clip = _slideshow([people / "person_a_1.jpg", people / "person_c_2.jpg"], tmp_path / "two.mp4")
    (result,) = add_images(face_engine, tmp_path / "known_faces", "who", [clip])
    assert not result.accepted and "more than one person" in (result.reason or "")
    assert not (tmp_path / "known_faces" / "who").exists()
