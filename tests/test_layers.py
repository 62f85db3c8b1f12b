"""The layering the README promises: only the face engine imports dlib."""

from __future__ import annotations

import subprocess
import sys

from tests.support.media import ROOT

# Import every module of watcher but the engine (and __main__ and Alembic's env.py, which run
# when imported), then report whether dlib came along.
_PROBE = """
import importlib, pkgutil, sys
import watcher
skip = {"watcher.faces.engine", "watcher.store.migrations.env", "watcher.__main__"}
names = [m.name for m in pkgutil.walk_packages(watcher.__path__, "watcher.")]
for name in names:
    if name not in skip:
        importlib.import_module(name)
print(len(names), "dlib" in sys.modules)
"""


def test_only_the_engine_imports_dlib() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    count, has_dlib = out.stdout.split()
    assert int(count) > 40  # the walk really saw the package
    assert has_dlib == "False"


def test_the_engine_does_import_dlib() -> None:
    """The probe above can fail: importing the engine itself loads dlib."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys, watcher.faces.engine; print('dlib' in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == "True", out.stderr
