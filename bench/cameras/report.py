"""The results kept across runs (bench/out/cameras/results.json) and their table."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.cameras.run import WORK, Result
from bench.live import header

RESULTS = WORK / "results.json"
SIZES_ORDER = {"720p": 0, "1080p": 1}
GOAL_SHARE = 0.5  # issue 15, goal 3: sixteen 1080p empty cameras under half of the cores


def load(path: Path = RESULTS) -> dict[str, Result]:
    """Every result measured so far, by its key (count/size/scene/decoding)."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    results = (Result.from_json(d) for d in raw)
    return {r.key: r for r in results}


def save(results: dict[str, Result], path: Path = RESULTS) -> None:
    """Write them all (the latest run of a key replaces the earlier one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.to_json() for r in results.values()], indent=2) + "\n")


def _order(r: Result) -> tuple[int, int, str, int, str]:
    scene = 0 if r.scene == "empty" else 1
    return (SIZES_ORDER.get(r.size, 9), scene, r.decoding, r.count, r.arrangement)


def _share(r: Result) -> str:
    shares = [c.decoded_share for c in r.cameras if c.decoded_share is not None]
    return f"{sum(shares) / len(shares):.0%}" if shares else "100%"


def _rss(r: Result) -> str:
    return f"{r.rss_start_mb:.0f} -> {r.rss_mb:.0f}" if r.rss_start_mb else f"{r.rss_mb:.0f}"


def table(results: dict[str, Result]) -> str:
    """The markdown table, 720p then 1080p, empty then visitor, full then limited."""
    cores = os.cpu_count() or 1
    lines = [
        f"| cameras | size | scene | scenes' phase | decoding | watcher CPU (of {cores} cores) "
        "| RSS, start -> peak (MiB) | input fps, slowest camera | analysed fps (mean) "
        "| frames decoded | skipped a camera-second | real time | load |",
        "|--:|:--|:--|:--|:--|--:|--:|--:|--:|--:|--:|:--|--:|",
    ]
    for r in sorted(results.values(), key=_order):
        analysed = sum(c.analysed_fps for c in r.cameras) / max(1, len(r.cameras))
        goal = " (goal < 50 %)" if (r.count, r.size, r.scene) == (16, "1080p", "empty") else ""
        lines.append(
            f"| {r.count} | {r.size} | {r.scene} | {r.arrangement} | {r.decoding} "
            f"| {r.cpu_share:.1%}{goal} "
            f"| {_rss(r)} | {r.min_input_fps:.1f} | {analysed:.1f} | {_share(r)} "
            f"| {r.skipped_per_s:.2f} | {'yes' if r.real_time else 'NO'} | {r.load:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _cell(r: Result | None) -> str:
    if r is None:
        return "-"
    late = "" if r.real_time else f", **{r.min_input_fps:.0f} fps: not real time**"
    mark = "*" if r.arrangement == "staggered" and r.count > 1 else ""
    return f"{r.cpu_share:.1%}{mark}, {r.rss_mb:.0f} MiB{late}"


def compact(results: dict[str, Result]) -> str:
    """Rows of size, scene and decoding; a column per camera count: CPU share and RSS.

    Where a combination ran both staggered and together, the staggered run is shown
    (marked *): cameras at their own moments, as real ones are.
    """
    best: dict[tuple[str, str, str, int], Result] = {}
    for r in sorted(results.values(), key=lambda r: r.arrangement != "staggered"):
        best.setdefault((r.size, r.scene, r.decoding, r.count), r)
    counts = sorted({k[3] for k in best})
    rows = sorted({k[:3] for k in best}, key=lambda k: (SIZES_ORDER.get(k[0], 9), k[1], k[2]))
    lines = [
        "| size | scene | decoding | "
        + " | ".join(f"{n} camera{'s' * (n > 1)}" for n in counts)
        + " |",
        "|:--|:--|:--|" + "--:|" * len(counts),
    ]
    for size, scene, decoding in rows:
        cells = [_cell(best.get((size, scene, decoding, n))) for n in counts]
        lines.append(f"| {size} | {scene} | {decoding} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def report(results: dict[str, Result]) -> str:
    """The whole markdown report: when, where, how, and the table."""
    windows = sorted({r.window_s for r in results.values()})
    dates = sorted({r.started for r in results.values()})
    span = f"{dates[0]} to {dates[-1]}" if dates else "-"
    return (
        "# watcher: cameras per machine (issue 15, goal 3)\n\n"
        + header()
        + f"- runs: {span}; windows of {', '.join(f'{w:g}' for w in windows)} s after "
        "every camera connected and a warm-up\n"
        "- one loopback RTSP server process serves every camera (its CPU not counted); "
        "footage: bench/footage/sizes.py (25 fps H.264, a keyframe every 2 s)\n"
        "- real time: every camera's frames came in at 25/s (status input fps >= 24.5); "
        "skipped: frames_skipped's growth, decoded frames overwritten in the camera's "
        "one-frame analysis slot before analysis took them (analysis wants 5 of the 25 "
        "a second); load: the machine's 1-minute load average as the window ended "
        "(the machine is shared)\n\n"
        + compact(results)
        + "\n(* staggered: camera k of n k/n of the loop ahead.)\n\n"
        + table(results)
    )
