"""The layering the README promises: only the face engine imports dlib, and the
packages of watcher import one way, from the top (the CLI) down to the core types."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


# Each top-level module or package of watcher has a rank; a module may import its own
# rank and lower ranks only (lazy imports inside functions too). No exceptions.
RANKS = {
    "watcher": 0,  # the package itself: __version__
    "constants": 0,
    "core": 0,
    "worker": 0,
    "log": 0,
    "progress": 0,
    "lazy": 0,
    "config": 1,
    "source": 2,
    "buffer": 3,
    "motion": 4,
    "faces": 5,
    "decide": 6,
    "store": 7,
    "record": 8,
    "housekeeping": 9,
    "usecases": 9,
    "notify": 9,
    "pipeline": 10,
    "service": 11,
    "cli": 12,
    "web": 12,
    "__main__": 12,
}
PACKAGE = ROOT / "watcher"


def _top(name: str) -> str:
    """The top-level part of watcher a dotted module name (or a name in one) belongs to."""
    parts = name.split(".")
    if len(parts) < 2:
        return "watcher"
    first = parts[1]
    if (PACKAGE / first).is_dir() or (PACKAGE / f"{first}.py").is_file():
        return first
    return "watcher"  # `from watcher import __version__`


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level part) of every watcher import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(node.lineno, _top(n)) for n in names if n.split(".")[0] == "watcher"]
    return found


def test_every_part_of_watcher_has_a_rank() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    parts = {p for p in parts if not p.startswith((".", "_")) or p == "__main__"}
    parts.discard("py")  # py.typed
    assert parts - set(RANKS) == set(), "rank every new package in RANKS"


def test_imports_run_one_way() -> None:
    wrong: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        own = _top(".".join(rel.with_suffix("").parts))
        if rel.parts[1] == "__init__.py":
            own = "watcher"
        for line, other in _imports(path):
            if RANKS[other] > RANKS[own]:
                wrong.add(f"{rel}:{line}: {own} (rank {RANKS[own]}) imports {other}")
    assert sorted(wrong) == []
