"""Issue 15, goal 8: start-up stays small. The read-only commands load no video or face stack.

`watcher events list` and its kind answer from the database: they must not pay for
OpenCV, PyAV or dlib (about 0.3 CPU-s and 40 MB together on this machine). Each
command runs in a fresh interpreter, as a user runs it, and reports what it loaded.
Speed itself is shown by measurement (README, performance notes), not timed here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli, write_config
from tests.support.media import ROOT

HEAVY = ("cv2", "av", "dlib", "watcher.faces.engine", "watcher.pipeline", "watcher.web")
MARK = "loaded-modules:"

# The command line's main() in a fresh interpreter, then the heavy modules it loaded.
_PROBE = f"""
import json, sys
from watcher.cli import main
code = main(sys.argv[1:])
heavy = {HEAVY!r}
loaded = sorted(m for m in heavy if m in sys.modules)
print({MARK!r} + json.dumps({{"code": code, "loaded": loaded}}))
"""


def loaded_by(*args: str) -> tuple[int, list[str]]:
    """Run `watcher ARGS` in a fresh interpreter: its exit status and the heavy modules loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    assert lines, f"the probe said nothing: {done.stderr[-2000:]}"
    report = json.loads(lines[-1].removeprefix(MARK))
    return int(report["code"]), list(report["loaded"])


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose database exists at the current schema (so readers really query it)."""
    path = write_config(tmp_path_factory.mktemp("startup"))
    done = cli("db", "upgrade", "-c", str(path))
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "command",
    [
        ("events", "list"),
        ("events", "list", "--json"),
        ("events", "show", "0123456789ab"),
        ("faces", "unknown"),
        ("db", "current"),
        ("notify", "status"),
    ],
    ids=" ".join,
)
def test_a_read_only_command_loads_no_video_or_face_stack(
    config: Path, command: tuple[str, ...]
) -> None:
    code, loaded = loaded_by(*command, "-c", str(config))
    assert code in (0, 1), code  # `events show` of an unknown id fails, and that is fine
    assert loaded == [], f"`watcher {' '.join(command)}` loaded {loaded}"


@pytest.mark.timeout(120)
def test_the_probe_sees_a_command_that_does_load_them(config: Path, tmp_path: Path) -> None:
    """The check above can fail: `replay` loads the pipeline (OpenCV, PyAV) before anything."""
    code, loaded = loaded_by("replay", str(tmp_path / "missing.mp4"), "-c", str(config))
    assert code == 1  # no such video file
    assert {"cv2", "av", "watcher.pipeline"} <= set(loaded), loaded


# The review page's app built as `watcher web` builds it, then what it loaded.
_WEB_PROBE = f"""
import json, sys
from watcher.config import load_config
from watcher.web.app import create_app
create_app(load_config(sys.argv[1]))
heavy = ("cv2", "av", "dlib", "watcher.faces.engine", "watcher.pipeline")
print({MARK!r} + json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


@pytest.mark.timeout(120)
def test_the_review_page_idle_loads_no_video_or_face_stack(config: Path) -> None:
    """`watcher web` (under 60 MB idle, issue 14) must not hold OpenCV or PyAV until asked."""
    done = subprocess.run(
        [sys.executable, "-c", _WEB_PROBE, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    assert lines, f"the probe said nothing: {done.stderr[-2000:]}"
    assert json.loads(lines[-1].removeprefix(MARK)) == []
