"""The demo camera's scene: deterministic frames, and real dlib sees what the demo promises."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np
import pytest

from watcher.source import demo_scene
from watcher.source.demo_photos import (
    RESIDENT_NAME,
    VISITOR_NAME,
    DemoUnavailable,
    install_resident,
    resident_photo,
    visitor_photo,
)
from watcher.source.demo_scene import SLIDE_S, Appearance, DemoScene

# Frames at 10 fps in the default 30 s period (see the timeline test).
EMPTY_FRAMES = (0, 25, 130, 250, 299)
RESIDENT_STILL = 75  # 7.5 s: the resident stands fully in view
VISITOR_STILL = 185  # 18.5 s: the visitor stands fully in view


def fully_in_view(who: Appearance, t: float) -> bool:
    """Whether the person stands still, wholly inside the frame, at time t."""
    return who.start_s + SLIDE_S <= t <= who.end_s - SLIDE_S


@pytest.fixture(scope="module")
def scene() -> DemoScene:
    return DemoScene()


class Dlib:
    """dlib's detector and recogniser, with weights found without importing their package."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("face_recognition_models")
        assert spec is not None and spec.submodule_search_locations
        models = Path(next(iter(spec.submodule_search_locations))) / "models"
        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )

    def faces(self, rgb: np.ndarray) -> Any:
        return self.detector(rgb, 0)

    def descriptor(self, rgb: np.ndarray) -> np.ndarray:
        faces = self.faces(rgb)
        assert len(faces) == 1, f"expected one face, found {len(faces)}"
        return np.array(self.net.compute_face_descriptor(rgb, self.shapes(rgb, faces[0])))


@pytest.fixture(scope="module")
def face_engine() -> Dlib:
    return Dlib()


def load_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def test_frame_shape_dtype_and_layout(scene: DemoScene) -> None:
    img = scene.frame(RESIDENT_STILL)
    assert img.shape == (540, 960, 3)
    assert img.dtype == np.uint8
    assert img.flags["C_CONTIGUOUS"]
    assert (scene.width, scene.height, scene.fps, scene.period_s) == (960, 540, 10.0, 30.0)


def test_frames_are_fresh_arrays(scene: DemoScene) -> None:
    # Callers may draw on a frame; that must not leak into the next one.
    first = scene.frame(3)
    first[:] = 0
    assert scene.frame(3).any()


def test_frames_are_deterministic(scene: DemoScene) -> None:
    other = DemoScene()
    for i in (0, 47, RESIDENT_STILL, VISITOR_STILL):
        assert np.array_equal(scene.frame(i), scene.frame(i))
        assert np.array_equal(scene.frame(i), other.frame(i))


def test_scene_loops_every_period(scene: DemoScene) -> None:
    period = round(scene.period_s * scene.fps)
    for i in (0, 1, 44, RESIDENT_STILL, 157, VISITOR_STILL, 299):
        assert np.array_equal(scene.frame(i), scene.frame(i + period))
        assert np.array_equal(scene.frame(i), scene.frame(i + 3 * period))


def test_noise_changes_between_frames_and_with_seed(scene: DemoScene) -> None:
    a, b = scene.frame(1).astype(int), scene.frame(2).astype(int)
    diff = np.abs(a - b)
    assert 0 < diff.mean() < 6  # sensor noise is there, and mild
    assert not np.array_equal(scene.frame(1), DemoScene(seed=1).frame(1))


def test_timeline_matches_the_script(scene: DemoScene) -> None:
    assert scene.timeline == (
        Appearance(RESIDENT_NAME, True, 4.0, 11.0),
        Appearance(VISITOR_NAME, False, 15.0, 22.0),
    )
    assert scene.appearance_at(2.0) is None
    assert scene.appearance_at(7.0) == scene.timeline[0]
    assert scene.appearance_at(18.0) == scene.timeline[1]
    assert fully_in_view(scene.timeline[0], 7.5)
    assert not fully_in_view(scene.timeline[0], 4.5)


def test_empty_frames_equal_the_background_up_to_noise(scene: DemoScene) -> None:
    # Nobody is drawn: empty frames differ from each other only by noise and light drift.
    a, b = scene.frame(EMPTY_FRAMES[1]).astype(int), scene.frame(EMPTY_FRAMES[2]).astype(int)
    assert np.abs(a - b).mean() < 12
    person = scene.frame(RESIDENT_STILL).astype(int)
    assert np.abs(a - person).mean() > 20


def test_frame_is_cheap(scene: DemoScene) -> None:
    scene.frame(0)
    start = time.perf_counter()
    for i in range(60):
        scene.frame(i * 5)
    per_frame = (time.perf_counter() - start) / 60
    # About 2 ms on a laptop; the bound leaves room for a busy CI machine.
    assert per_frame < 0.025


def test_dlib_finds_no_face_in_empty_frames(scene: DemoScene, face_engine: Dlib) -> None:
    for i in EMPTY_FRAMES:
        assert len(face_engine.faces(scene.frame(i))) == 0, f"frame {i}"


@pytest.mark.parametrize("index", [50, RESIDENT_STILL, 100, 160, VISITOR_STILL, 210])
def test_dlib_finds_one_face_of_the_promised_size(
    scene: DemoScene, face_engine: Dlib, index: int
) -> None:
    t = (index % scene.period_frames) / scene.fps
    who = scene.appearance_at(t)
    assert who is not None and fully_in_view(who, t)
    faces = face_engine.faces(scene.frame(index))
    assert len(faces) == 1
    assert 140 <= faces[0].height() <= 200


def test_dlib_recognises_the_resident_and_not_the_visitor(
    scene: DemoScene, face_engine: Dlib
) -> None:
    reference = face_engine.descriptor(load_rgb(resident_photo()))
    resident = face_engine.descriptor(scene.frame(RESIDENT_STILL))
    visitor = face_engine.descriptor(scene.frame(VISITOR_STILL))
    assert np.linalg.norm(resident - reference) < 0.45
    assert np.linalg.norm(visitor - reference) > 0.6
    # The visitor in the scene is still the astronaut of the photo.
    assert np.linalg.norm(visitor - face_engine.descriptor(load_rgb(visitor_photo()))) < 0.45


def test_install_resident_copies_once(tmp_path: Path) -> None:
    installed = install_resident(tmp_path)
    assert installed == tmp_path / RESIDENT_NAME / f"{RESIDENT_NAME}.jpg"
    assert installed.read_bytes() == resident_photo().read_bytes()
    assert install_resident(tmp_path) is None
    assert [p.name for p in (tmp_path / RESIDENT_NAME).iterdir()] == [f"{RESIDENT_NAME}.jpg"]


def test_install_resident_respects_an_existing_person(tmp_path: Path) -> None:
    own = tmp_path / RESIDENT_NAME / "mine.png"
    own.parent.mkdir()
    own.write_bytes(b"not really a png")
    assert install_resident(tmp_path) is None
    assert sorted(p.name for p in own.parent.iterdir()) == ["mine.png"]


def test_install_resident_fills_an_empty_person_folder(tmp_path: Path) -> None:
    (tmp_path / RESIDENT_NAME).mkdir()
    assert install_resident(tmp_path) is not None


def test_command_line_install(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_scene.main(["--install-resident", str(tmp_path)]) == 0
    assert "installed" in capsys.readouterr().out
    assert demo_scene.main(["--install-resident", str(tmp_path)]) == 0
    assert "already" in capsys.readouterr().out


def test_missing_demo_extra_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name == "skimage" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(DemoUnavailable, match=r"pip install 'watcher\[demo\]'"):
        visitor_photo()
    with pytest.raises(DemoUnavailable):
        DemoScene()
