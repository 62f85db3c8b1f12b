"""Faces: the dlib engine (behind `open_engine`, the one door to dlib) and the gallery."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from watcher.faces.models import ModelsMissing

if TYPE_CHECKING:  # core's NumPy is not for the light users (the page's watch-list)
    from watcher.core import FaceEngine

__all__ = ["ModelsMissing", "open_engine"]


def open_engine(cache_dir: Path | None = None, detectors: int = 1) -> FaceEngine:
    """The dlib face engine, its models loaded; ModelsMissing when they cannot be.

    dlib is imported here, at the first engine, not when watcher's modules load:
    commands that judge no face (`events list`, `check-config`) never pay for it.
    `detectors` > 1 gives a pool of that many engines (faces/pool.py); 0 one per core.
    """
    from watcher.faces.engine import FaceEngine as DlibEngine
    from watcher.faces.pool import EnginePool, default_size

    size = detectors or default_size()
    if size == 1:
        return DlibEngine(cache_dir)
    return EnginePool(lambda: DlibEngine(cache_dir), size)
