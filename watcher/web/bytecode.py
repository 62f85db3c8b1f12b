"""How the page's process runs lean: what it imports before its first request, and the
docstring-free bytecode its systemd unit points it at.

The page idles for weeks and holds every module it imported: about 3.5 MB of that is
docstrings (SQLAlchemy's and the standard library's above all), which a server never
reads. `PYTHONOPTIMIZE=2` leaves them out (and `assert` statements, which watcher uses
only to narrow types). That bytecode must be compiled ahead, or every start compiles
some 600 modules from source: slow, and the compiler's scratch memory stays as holes
in the heap. So `python -m watcher.web.bytecode`, run with the same two settings,
imports everything the page imports and writes the compiled files under
`PYTHONPYCACHEPREFIX` (a no-op when they are current): systemd/watcher-web.service
runs it before each start, into its cache directory; the test bootstrap into the venv.
"""

from __future__ import annotations

import compileall
import importlib
import os
import sys
from pathlib import Path
from typing import Final

OPTIMIZE: Final = "2"
PYCACHE_DIR: Final = "pycache-page"
# The two settings, as the unit and the tests set them (besides PYTHONDONTWRITEBYTECODE).
OPTIMIZE_VAR: Final = "PYTHONOPTIMIZE"
PREFIX_VAR: Final = "PYTHONPYCACHEPREFIX"
SETTINGS: Final = (OPTIMIZE_VAR, PREFIX_VAR)

# Imported by the first request (uvicorn's protocol and loop, anyio's worker threads,
# the SQLite dialect, the database check): loaded before start-up's garbage is frozen
# instead of in the middle of a request.
FIRST_REQUEST: Final = (
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.loops.asyncio",
    "uvicorn.lifespan.on",
    "anyio._backends._asyncio",
    "anyio.to_thread",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "watcher.cli.common",
)
# Imported only when asked (deleting, uploading, PostgreSQL): compiled ahead, never
# loaded by an idle page.
WHEN_ASKED: Final = (
    "watcher.usecases.events",
    "email.parser",
    "email.policy",
    "starlette.formparsers",
    "sqlalchemy.dialects.postgresql",
)


def venv_prefix(venv: Path | None = None) -> Path:
    """The tests' cache of the page's compiled modules: PYCACHE_DIR in the venv."""
    return (venv if venv is not None else Path(sys.prefix)) / PYCACHE_DIR


def page_env(base: dict[str, str], prefix: Path | None = None) -> dict[str, str]:
    """`base` with the page's two settings (prefix: venv_prefix() unless given)."""
    where = prefix if prefix is not None else venv_prefix()
    return {**base, OPTIMIZE_VAR: OPTIMIZE, PREFIX_VAR: str(where)}


def without_page_settings(base: dict[str, str]) -> dict[str, str]:
    """`base` without them: a `watcher faces` command the page starts is short-lived and
    imports NumPy, OpenCV and dlib, none of which the page's cache holds."""
    return {key: value for key, value in base.items() if key not in SETTINGS}


def preload() -> None:
    """Import what the page's first request would."""
    for name in FIRST_REQUEST:
        importlib.import_module(name)


def warm() -> None:
    """Import everything the page may import, and compile each module not compiled yet
    (or whose source changed since) under the page's settings (`python -m` this module).
    """
    for name in ("watcher.cli", "watcher.cli.web", "watcher.web.server", "watcher.web.app"):
        importlib.import_module(name)
    preload()
    for name in WHEN_ASKED:
        importlib.import_module(name)
    # Written here, not by the imports: the unit sets PYTHONDONTWRITEBYTECODE, and this
    # package's own modules were imported before anything could switch it off.
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None) or ""
        if source.endswith(".py") and not compileall.compile_file(
            source, quiet=2, optimize=int(OPTIMIZE)
        ):
            raise OSError(f"could not compile {source}")


if __name__ == "__main__":
    if os.environ.get(OPTIMIZE_VAR) != OPTIMIZE or not os.environ.get(PREFIX_VAR):
        sys.exit(f"watcher: run with {OPTIMIZE_VAR}={OPTIMIZE} and {PREFIX_VAR} set")
    warm()
