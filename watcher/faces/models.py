"""Where dlib's weights are: the files of the face_recognition_models package (no dlib here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

MODELS_PACKAGE = "face_recognition_models"
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"  # the 5-point model suffices for embedding
EMBED_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


class ModelsMissing(RuntimeError):
    """The dlib weights (package face_recognition_models) are not installed."""


def model_path(filename: str) -> Path:
    """Path of a weights file shipped by face_recognition_models.

    The package is located, not imported: its __init__ imports pkg_resources,
    which setuptools >= 81 no longer provides.
    """
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelsMissing(f"{MODELS_PACKAGE} is not installed: pip install {MODELS_PACKAGE}")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / filename
    if not path.is_file():
        raise ModelsMissing(f"model file missing: {path}")
    return path
