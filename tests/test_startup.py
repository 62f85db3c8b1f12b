"""Issue 15, goal 8: start-up stays small. The read-only commands load no video or face stack.

`watcher events list` and its kind answer from the database: they must not pay for
OpenCV, PyAV or dlib (about 0.3 CPU-s and 40 MB together on this machine), NumPy,
Alembic, nor SQLAlchemy's ORM (6 MB and 50 ms: they query with Core). Each command
runs in a fresh interpreter, as a user runs it, and reports what it loaded. Speed
itself is shown by measurement (README, performance notes), not timed here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from tests.support.cli import cli, write_config
from tests.support.media import ROOT, VIDEO
from watcher import cli as command_line
from watcher.config import load_config
from watcher.store import make_engine
from watcher.store.tables import event_identities, events, sightings, unknown_identities

HEAVY = (
    "cv2",
    "av",
    "dlib",
    "numpy",
    "alembic",
    "sqlalchemy.orm",
    "watcher.faces.engine",
    "watcher.pipeline",
    "watcher.web",
)
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


EVENT_ID = "startup0001"


def _fill(config: Path) -> None:
    """Two events, their sightings and two unknown identities: readers find rows to read."""
    engine = make_engine(load_config(config).database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            for n in (1, 2):
                conn.execute(
                    insert(unknown_identities).values(
                        id=n, label=f"unknown-{n}", first_seen=now, last_seen=now, sightings=1,
                        events=1, centroid=bytes(512),
                    )
                )  # fmt: skip
            for n, event_id in enumerate((EVENT_ID, "startup0002"), start=1):
                at = now - timedelta(minutes=n)
                conn.execute(
                    insert(events).values(
                        id=event_id, camera="cam", started_at=at, ended_at=at, status="closed"
                    )
                )
                conn.execute(
                    insert(sightings).values(
                        event_id=event_id, at=at, offset_s=0.0, top=0, right=9, bottom=9,
                        left=0, embedding=bytes(512), identity_id=n,
                    )
                )  # fmt: skip
                conn.execute(insert(event_identities).values(event_id=event_id, identity_id=n))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose database exists at the current schema, with rows readers really read."""
    path = write_config(tmp_path_factory.mktemp("startup"))
    done = cli("db", "upgrade", "-c", str(path))
    assert done.returncode == 0, done.stderr
    _fill(path)
    return path


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("events", "list"), 0),
        (("events", "list", "--json"), 0),
        (("events", "show", EVENT_ID), 0),
        (("events", "show", "0123456789ab"), 1),  # no such event: the one failure expected
        (("faces", "unknown"), 0),
        (("db", "current"), 0),
        (("notify", "status"), 0),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else f"exit {value}",
)
def test_a_read_only_command_loads_no_video_or_face_stack(
    config: Path, command: tuple[str, ...], expected: int
) -> None:
    code, loaded = loaded_by(*command, "-c", str(config))
    assert code == expected, code  # a broken read exits 1 too: only the unknown id may
    assert loaded == [], f"`watcher {' '.join(command)}` loaded {loaded}"


@pytest.mark.timeout(120)
def test_the_probe_sees_a_command_that_does_load_them(config: Path, tmp_path: Path) -> None:
    """The check above can fail: `replay` of a file loads the pipeline (OpenCV, PyAV)."""
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    code, loaded = loaded_by("replay", str(broken), "-c", str(config))
    assert code == 1  # not a video the pipeline can read
    assert {"cv2", "av", "watcher.pipeline"} <= set(loaded), loaded


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_each_command_is_registered_by_the_module_the_parser_loads_for_it() -> None:
    """A command parses with only its module loaded (`events list` need not build `run`'s
    parser): the table saying which module registers which command is the whole truth."""
    every = _commands(command_line._parser(["--help"]))
    assert every == set(command_line._REGISTERED_BY)
    for name in every:
        assert name in _commands(command_line._parser([name, "--help"])), name
    assert _commands(command_line._parser(["--log-level", "events", "run"])) == {"run", "status"}


# The review page served as `watcher web` serves it (uvicorn, in this process), its pages
# asked for and its admin's changes made; then the status of each request and what loaded.
_WEB_PROBE = f"""
import http.client, json, re, socket, sys, threading, time
import uvicorn
from watcher.config import load_config
from watcher.web.app import create_app

app = create_app(load_config(sys.argv[1]))
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
server = uvicorn.Server(uvicorn.Config(app, http="h11", loop="asyncio", ws="none", log_config=None))
thread = threading.Thread(target=server.run, kwargs={{"sockets": [sock]}}, daemon=True)
thread.start()
deadline = time.monotonic() + 15
while not server.started:
    if not thread.is_alive() or time.monotonic() > deadline:
        sys.exit("the page's server did not start")
    time.sleep(0.01)

def ask(path, form=None, cookie=""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {{"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}}
    conn.request("POST" if form is not None else "GET", path, body=form, headers=headers)
    response = conn.getresponse()
    return response.status, response.getheader("set-cookie") or "", response.read()

status, cookie, page = ask("/")
cookie = cookie.split(";", 1)[0]
csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
asked = {{"/": status}}
for path in ("/strangers", "/gallery", "/status", "/events/{EVENT_ID}"):
    asked[path] = ask(path, cookie=cookie)[0]
for path, form in (
    ("/events/{EVENT_ID}/reviewed", "reviewed=yes"),
    ("/strangers/unknown-1/merge", "other=unknown-2"),
    ("/strangers/unknown-1/forget", ""),
    ("/events/startup0002/delete", ""),
):
    asked[path] = ask(path, f"csrf={{csrf}}&{{form}}", cookie)[0]
server.should_exit = True
heavy = ("cv2", "av", "dlib", "watcher.faces.engine", "watcher.pipeline", "sqlalchemy.orm")
loaded = sorted(m for m in heavy if m in sys.modules)
print({MARK!r} + json.dumps({{"asked": asked, "loaded": loaded}}))
"""


@pytest.mark.timeout(120)
def test_the_review_page_loads_no_video_face_stack_nor_orm(config: Path) -> None:
    """`watcher web` (under 60 MB idle, issue 14) holds no OpenCV or PyAV until asked, and
    no ORM at all: its pages read, and its admin marks, deletes and tidies, in Core."""
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
    report = json.loads(lines[-1].removeprefix(MARK))
    pages = ("/", "/strangers", "/gallery", "/status", f"/events/{EVENT_ID}")
    changes = (
        f"/events/{EVENT_ID}/reviewed",
        "/strangers/unknown-1/merge",
        "/strangers/unknown-1/forget",
        "/events/startup0002/delete",
    )
    assert report["asked"] == {
        **dict.fromkeys(pages, 200),
        **dict.fromkeys(changes, 303),
    }, report["asked"]
    assert report["loaded"] == []


# `watcher replay` in a fresh interpreter: the cyclic collector's passes until the
# pipeline starts on the file (seen by a profile hook, dropped then), and what is frozen.
_GC_PROBE = """
import gc, json, sys
from watcher.cli import main
passes, started = [], []
gc.callbacks.append(lambda phase, info: phase == "start" and not started and passes.append(1))
def starts(frame, event, arg):
    code = frame.f_code
    if event == "call" and code.co_name == "replay" and code.co_filename.endswith("replay.py"):
        if "pipeline" in code.co_filename:
            started.append(gc.get_freeze_count())
            sys.setprofile(None)
sys.setprofile(starts)
code = main(sys.argv[1:])
print("gc:" + json.dumps({"code": code, "passes": len(passes), "frozen": started}))
"""


@pytest.mark.timeout(120)
def test_no_cyclic_collection_runs_while_replay_loads_its_libraries_models_and_database(
    config: Path, tmp_path: Path
) -> None:
    """The collector walked the 100,000s of objects loading makes, for next to no garbage."""
    done = subprocess.run(
        [sys.executable, "-c", _GC_PROBE, "replay", str(VIDEO / "no_face.mp4"), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("gc:")]
    doc = json.loads(line[3:])
    assert doc["code"] == 0, done.stderr[-2000:]
    assert doc["passes"] == 0, doc
    (frozen,) = doc["frozen"]
    assert frozen > 100_000, doc  # left out of every later collection
