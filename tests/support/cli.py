"""The real `watcher` command line, in a subprocess or in this process, and configs for it.

`watcher()` runs it as users do, in its own process: for signals, crashes, file modes,
locks. `cli()` runs the same `main()` here, where nothing of the kind is under test:
no interpreter start-up, so the suite is faster.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.media import ROOT

CLI_TIMEOUT_S = 240


def write_config(
    folder: Path,
    *,
    known: dict[str, list[Path]] | None = None,
    source: str = "demo",
    extra: str = "",
    faces: str = "",
    record: str = "",
) -> Path:
    """A config in `folder` with its own gallery, recordings and database."""
    gallery = folder / "known_faces"
    gallery.mkdir(parents=True, exist_ok=True)
    for person, photos in (known or {}).items():
        (gallery / person).mkdir(exist_ok=True)
        for photo in photos:
            (gallery / person / photo.name).write_bytes(photo.read_bytes())
    path = folder / "watcher.yaml"
    path.write_text(
        "known_faces_dir: known_faces\n"
        "recordings_dir: recordings\n"
        "database_url: sqlite:///recordings/watcher.db\n"
        f"faces:\n  tolerance: 0.6\n{faces}"
        f"record:\n  pre_capture_s: 3\n  post_capture_s: 2\n{record}"
        f"cameras:\n  cam:\n    source: {source}\n"
        f"{extra}"
    )
    return path


def watcher(*args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run the real `watcher` command line in a subprocess, bounded in time."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "watcher", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line's `main()` in this process; what it printed and returned.

    Logging and the umask, which `main()` sets for the whole process, are put back.
    """
    from watcher.cli import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        os.umask(umask)
    return subprocess.CompletedProcess(["watcher", *args], code, out.getvalue(), err.getvalue())


def replay(config: Path, video: Path) -> dict[str, Any]:
    """`watcher replay` over a video (in this process); the parsed JSON document."""
    done = cli("replay", str(video), "-c", str(config))
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc
