"""Cameras per machine (issue 15, goal 3): N looping RTSP cameras in one `watcher run`.

    python -m bench.cameras                                  # the whole grid (long)
    python -m bench.cameras --counts 16 --sizes 1080p --scenes empty --decoding limited
    python -m bench.cameras --report                         # only rewrite the table

Each combination of --counts x --sizes x --scenes x --decoding is one run: one
loopback RTSP server process with N mounts of the looping footage
(bench/footage/sizes.py, built first if missing), watcher with N cameras, a warm-up,
then a measured window (bench/cameras/run.py). Results are kept by combination in
bench/out/cameras/results.json (a rerun replaces its row), and the table of all of
them is written to bench/out/cameras.md and printed.
"""

from __future__ import annotations

import argparse
import itertools
import sys

from bench.cameras.report import RESULTS, load, report, save
from bench.cameras.run import measure
from bench.footage.sizes import build_sizes
from bench.paths import OUT
from tests.rtsp.harness import MISSING_HINT, gst_rtsp_available


def _list(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen combinations, keep their results, write the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.cameras", description=__doc__)
    parser.add_argument("--counts", default="1,4,8,16", help="camera counts, e.g. 1,4,16")
    parser.add_argument("--sizes", default="720p,1080p")
    parser.add_argument("--scenes", default="empty,visitor")
    parser.add_argument("--decoding", default="full,limited")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after connecting")
    parser.add_argument("--window", type=float, default=60.0, help="measured seconds")
    parser.add_argument(
        "--together",
        action="store_true",
        help="every camera's scene in phase (default: staggered over the loop)",
    )
    parser.add_argument("--report", action="store_true", help="only rewrite the table")
    args = parser.parse_args(argv)
    results = load()
    if not args.report:
        if not gst_rtsp_available():
            print(MISSING_HINT, file=sys.stderr)
            return 2
        build_sizes(scenes=_list(args.scenes))
        grid = itertools.product(
            [int(c) for c in _list(args.counts)],
            _list(args.sizes),
            _list(args.scenes),
            _list(args.decoding),
        )
        for count, size, scene, decoding in grid:
            print(f"cameras: {count} x {size} {scene}, decoding {decoding}", file=sys.stderr)
            result = measure(
                count, size, scene, decoding, args.warmup, args.window, not args.together
            )
            print(
                f"  CPU {result.cpu_share:.1%} of the cores, RSS {result.rss_mb:.0f} MiB, "
                f"slowest camera {result.min_input_fps:.1f} fps in, skipped {result.skipped}",
                file=sys.stderr,
            )
            results[result.key] = result
            save(results)  # after every run: a long grid cut short keeps what it measured
    text = report(results)
    (OUT / "cameras.md").write_text(text)
    print(text)
    print(f"(results: {RESULTS})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
