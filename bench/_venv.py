"""Re-run the script under the project's venv when started with another Python.

Imported first by the bench scripts, so `python bench/run.py` works from any
Python: when PyAV, OpenCV, NumPy or watcher cannot be imported and ../.venv
exists, the process is replaced by the same command under .venv/bin/python.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

_VENV = Path(__file__).resolve().parent.parent / ".venv"
_PYTHON = _VENV / "bin" / "python"
_NEEDED = ("av", "cv2", "numpy", "watcher")


def _missing() -> list[str]:
    return [m for m in _NEEDED if importlib.util.find_spec(m) is None]


if _missing() and _PYTHON.exists() and Path(sys.prefix).resolve() != _VENV.resolve():
    os.execv(str(_PYTHON), [str(_PYTHON), *sys.argv])
