"""The tools measured side by side, the command that runs each, and what it printed."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from typing import Any

from bench.footage.scenes import Scene
from bench.measure import Measurement
from bench.paths import OUT

# naive_1x: the recipe at full scale, run only where faces are too small for its 1/4.
TOOLS = ("floor", "naive", "naive_1x", "watcher")
SCENES = (
    "visitors",
    "empty",
    "single_face",
    "hamilton",
    "single_face_x25",
    "hamilton_x6",
    "startup",
)


@dataclass
class Run:
    """One measurement of one tool on one scene."""

    scene: str
    tool: str
    repeat: int
    numbers: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None


def command(tool: str, scene: Scene, threads: str = "NONE") -> list[str]:
    """The child process that runs `tool` on the scene (from the project root)."""
    py = sys.executable
    if tool == "floor":
        return [
            py,
            "-m",
            "bench.floor",
            str(scene.video),
            "--threads",
            threads,
            "--child",
        ]
    if tool in ("naive", "naive_1x"):
        return [
            py,
            "-m",
            "bench.naive",
            str(scene.video),
            "--gallery",
            str(scene.gallery),
            "--threads",
            threads,
            *(["--scale", "1"] if tool == "naive_1x" else []),
            "--child",
        ]
    return [py, "-m", "watcher", "replay", str(scene.video), "-c", str(scene.config)]


def parse(m: Measurement) -> tuple[dict[str, Any] | None, str | None]:
    if m.timed_out:
        return None, "timed out"
    if m.returncode != 0:
        tail = "\n".join(m.stderr.strip().splitlines()[-8:])
        return None, f"exit status {m.returncode}: {tail}"
    text = m.stdout
    try:
        doc: dict[str, Any] = json.loads(text[text.index("{") :])
    except ValueError:
        return None, f"unreadable output: {text[:200]!r}"
    return doc, None


def reset_watcher_state() -> None:
    """Fresh recordings and database for the bench configs (all under bench/out)."""
    shutil.rmtree(OUT / "recordings", ignore_errors=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (OUT / f"watcher.db{suffix}").unlink(missing_ok=True)


def applies(tool: str, scene: Scene) -> bool:
    """naive_1x only runs where the recipe's 1/4 scale cannot see the faces."""
    return tool != "naive_1x" or scene.small_faces
