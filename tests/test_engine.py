"""The face engine's saved detector: loaded instead of rebuilt, and never trusted when damaged."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import pytest

from tests.support.media import STILLS
from watcher.faces import engine as engine_module
from watcher.faces.engine import FaceEngine, ModelsMissing, load_detector


def _saved(cache: Path) -> Path:
    (path,) = cache.glob("*.svm")
    return path


def _no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the detector was rebuilt instead of loaded")

    monkeypatch.setattr(engine_module.dlib, "get_frontal_face_detector", refuse)


def test_saved_detector_finds_the_same_faces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grey = cv2.imread(str(STILLS / "two_people.jpg"), cv2.IMREAD_GRAYSCALE)
    built = FaceEngine(tmp_path / "cache").detect(grey, 60)
    assert len(built) == 2
    assert _saved(tmp_path / "cache").stat().st_size > 0
    _no_rebuild(monkeypatch)
    assert FaceEngine(tmp_path / "cache").detect(grey, 60) == built


@pytest.mark.parametrize("damage", ["flip", "truncate", "digest", "binary digest"])
def test_a_damaged_copy_is_rebuilt(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_detector(tmp_path)
    path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 3]))
    elif damage == "digest":
        path.with_name(path.name + ".sha256").write_text("0" * 64)
    else:
        path.with_name(path.name + ".sha256").write_bytes(b"\xff\xfe\x00garbage")
    with caplog.at_level(logging.WARNING, logger=engine_module.__name__):
        detector = load_detector(tmp_path)
    assert detector.num_detectors == 5
    assert "damaged" in caplog.text
    _no_rebuild(monkeypatch)  # the copy was saved again, whole
    assert load_detector(tmp_path).num_detectors == 5


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    assert load_detector(blocker / "cache").num_detectors == 5
    assert not (blocker / "cache").exists()


def test_a_damaged_model_file_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = engine_module.model_path
    broken = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    broken.write_bytes(real(engine_module.EMBED_MODEL).read_bytes()[:4096])

    def model_path(filename: str) -> Path:
        return broken if filename == engine_module.EMBED_MODEL else real(filename)

    monkeypatch.setattr(engine_module, "model_path", model_path)
    with pytest.raises(ModelsMissing, match="unreadable"):
        FaceEngine()
