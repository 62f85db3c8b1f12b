"""What both latency benches do around the live camera: the looped footage, a clean
work folder, the witness on the stream and the appearances to measure."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench.footage.build import build
from bench.latency.loopfile import WORK, Appearance, build_loop, read_json
from bench.latency.witness import Witness

WITNESS_PACKETS = 50  # the witness has the stream once it got this many packets
WITNESS_WAIT_S = 30.0


def visitors_loop() -> tuple[dict[str, Any], dict[str, Any], float]:
    """The visitors scene's metadata, its looped file's description and the loop's period."""
    scenes = build()
    visitors = next(s for s in scenes if s.name == "visitors")
    meta = read_json(visitors.video.with_suffix(".json"))
    assert meta is not None, visitors.video
    loop = build_loop(visitors.video, meta)
    return meta, loop, float(loop["period_s"])


def clean_work() -> None:
    """No database or recordings left from an earlier run."""
    for name in ("watcher.db", "watcher.db-wal", "watcher.db-shm"):
        (WORK / name).unlink(missing_ok=True)
    shutil.rmtree(WORK / "recordings", ignore_errors=True)


def start_witness(url: str, who: str) -> Witness:
    """A witness on the stream at `url`, once it gets packets (SystemExit if it gets none)."""
    witness = Witness(url)
    witness.start()
    deadline = time.monotonic() + WITNESS_WAIT_S
    while (
        witness.packets() < WITNESS_PACKETS and time.monotonic() < deadline and witness.is_alive()
    ):
        time.sleep(0.1)
    if witness.packets() < WITNESS_PACKETS:
        raise SystemExit(f"{who}: the witness got no stream: {witness.error}")
    return witness


def appearances_from(
    loop: dict[str, Any], period: float, first_pos: float, count: int
) -> list[Appearance]:
    """The first `count` arrivals of the loop at or after stream position `first_pos`."""
    todo: list[Appearance] = []
    r = 0
    while len(todo) < count:
        for a in loop["arrivals"]:
            app = Appearance(a["visitor"], float(a["loop_s"]), r)
            if app.position(period) >= first_pos and len(todo) < count:
                todo.append(app)
        r += 1
    return todo


def write_report(text: str, result: dict[str, Any], md: Path, raw: Path) -> None:
    """The report in `md` and on stdout, the figures behind it in `raw` (JSON)."""
    md.write_text(text)
    raw.write_text(json.dumps(result, indent=2) + "\n")
    print(text)
