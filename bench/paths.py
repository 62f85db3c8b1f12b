"""Where the benchmarks read and write: the project's root, bench/out and ../shared/media."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
# The photos and clips the footage is composed from (the tests' media, beside the project).
MEDIA = Path(os.environ.get("WATCHER_BENCH_MEDIA", ROOT.parent / "shared" / "media")).resolve()
