"""The machine, the versions and watcher's commit a benchmark ran on, for its report."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.paths import ROOT


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def code_fingerprint() -> str:
    """A hash of watcher's source as it is on disk now (commits or not)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "watcher").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine_info() -> dict[str, Any]:
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "watcher")
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "watcher_commit": (_git("rev-parse", "--short", "HEAD") or "?")
        + (" + uncommitted changes in watcher/" if dirty else ""),
        "versions": {
            d: _version(d)
            for d in ("av", "dlib-bin", "face_recognition", "numpy", "opencv-python-headless")
        },
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "watcher_source_before": code_fingerprint(),
    }
