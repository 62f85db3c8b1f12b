"""The three contenders on each file: the decode floor, watcher `full`, watcher `limited`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.paths import OUT

WORK = OUT / "decoding"
TOOLS = ("floor", "full", "limited")  # full / limited: watcher replay with that `decoding`
MODES = ("full", "limited")

_CONFIG = """\
# Written by `python -m bench.decoding`: watcher's defaults but for `decoding` ({mode}).
# `watcher replay` ignores the camera source; base_dir is this folder (bench/out/decoding).
known_faces_dir: ../known_faces
recordings_dir: recordings-{mode}
database_url: sqlite:///watcher-{mode}.db
log_level: WARNING
cameras:
  bench:
    source: demo
{decoding}"""


def decoding_key_supported() -> bool:
    """Whether this watcher has the camera key `decoding` (issue 15)."""
    from watcher.config.models import CameraConfig

    return "decoding" in CameraConfig.model_fields


def write_config(mode: str, keyed: bool) -> Path:
    """The replay config of one mode (without the key when watcher does not know it)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"watcher-{mode}.yaml"
    line = f"    decoding: {mode}\n" if keyed else ""
    path.write_text(_CONFIG.format(mode=mode, decoding=line))
    return path


def reset_state() -> None:
    """Fresh recordings and databases for both modes."""
    for mode in MODES:
        shutil.rmtree(WORK / f"recordings-{mode}", ignore_errors=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            (WORK / f"watcher-{mode}.db{suffix}").unlink(missing_ok=True)


def command(tool: str, video: Path, configs: dict[str, Path]) -> list[str]:
    """The child process that runs `tool` on `video` (from the project root)."""
    py = sys.executable
    if tool == "floor":  # one decoder thread, as watcher's default decode_threads: 1
        return [py, "-m", "bench.floor", str(video), "--threads", "NONE", "--child"]
    return [py, "-m", "watcher", "replay", str(video), "-c", str(configs[tool])]
