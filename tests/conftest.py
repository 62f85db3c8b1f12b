"""Shared test helpers: the real media in ../shared/media and a real `watcher` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy.engine import Engine

from watcher.store import StoreWriter, init_db, make_engine

ROOT = Path(__file__).resolve().parent.parent
MEDIA = (ROOT.parent / "shared" / "media").resolve()
FACES = MEDIA / "faces"
STILLS = MEDIA / "stills"
VIDEO = MEDIA / "video"
CLI_TIMEOUT_S = 240
WRITER_STOP_S = 10.0


def skip_unless_required(reason: str) -> NoReturn:
    """Skip for a missing system service, or fail where the test command installed it."""
    if os.environ.get("WATCHER_TEST_SERVICES") == "required":
        pytest.fail(f"{reason} (the test command installed it, so this is a fault)")
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    """The test media are required: fail at once with a clear message when absent."""
    if not MEDIA.is_dir():
        raise pytest.UsageError(f"test media not found at {MEDIA} (../shared/media)")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's SQLite database goes (its folder is created by the store)."""
    return tmp_path / "data" / "nested" / "watcher.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    """A real SQLite database at the current schema."""
    eng = make_engine(f"sqlite:///{db_path}")
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def writer(engine: Engine) -> Iterator[StoreWriter]:
    """The store's one writer thread on `engine`, stopped (bounded) after the test."""
    w = StoreWriter(engine, backoff_s=0.01).start()
    yield w
    assert w.stop(timeout=WRITER_STOP_S)


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


def replay(config: Path, video: Path) -> dict[str, Any]:
    """`watcher replay` over a video; the parsed JSON document."""
    done = watcher("replay", str(video), "-c", str(config))
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def looped_video(source: Path, repeats: int, dest: Path) -> Path:
    """`source` played `repeats` times in a row, remuxed (not re-encoded) into `dest`."""
    import av

    with av.open(str(source)) as first:
        template = first.streams.video[0]
        with av.open(str(dest), "w") as out:
            stream = out.add_stream_from_template(template)
            for play in range(repeats):
                with av.open(str(source)) as src:
                    packets = [p for p in src.demux(src.streams.video[0]) if p.dts is not None]
                    # One play: from its first frame shown to the end of its last.
                    first = min(p.pts for p in packets)
                    length = max(p.pts + (p.duration or 0) for p in packets) - first
                    for packet in packets:
                        packet.pts += play * length
                        packet.dts += play * length
                        packet.stream = stream
                        out.mux(packet)
    return dest


def play_length_s(source: Path) -> float:
    """Seconds from the first frame shown to the end of the last (one play in looped_video)."""
    import av

    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.dts is not None]
        length = max(p.pts + (p.duration or 0) for p in packets) - min(p.pts for p in packets)
        return float(length * (stream.time_base or 0))
