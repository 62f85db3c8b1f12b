"""latency.md: the table of appearances and the figures against issue 3's goals."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import Any

from bench.paths import OUT

REPORT_MD = OUT / "latency.md"
REPORT_JSON = OUT / "latency.json"
GOAL_MEDIAN_S = 1.5
MIN_APPEARANCES = 10


def _hms(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S.%f")[:-3]


def _s(value: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if value is None else fmt.format(value)


def report(result: dict[str, Any]) -> str:
    info = result["info"]
    apps = result["appearances"]
    pre = result["pre_capture_s"]
    lat = [a["row_after_s"] for a in apps if a["row_after_s"] is not None]
    leads = [a["clip_lead_s"] for a in apps if a["clip_lead_s"] is not None]
    errors = [
        a["clip_started_at_error_s"] for a in apps if a["clip_started_at_error_s"] is not None
    ]
    missed = [a for a in apps if a["event"] is None]
    median = statistics.median(lat) if lat else None
    ok_latency = median is not None and median < GOAL_MEDIAN_S and len(lat) >= MIN_APPEARANCES
    ok_clips = len(leads) == len(apps) and all(x >= pre - 1e-6 for x in leads)
    bad_match = [a for a in apps if a["clip_match"] is not None and a["clip_match"] > 0.5]
    lines = [
        "# watcher live latency (RTSP)",
        "",
        f"- date: {info['date']}",
        f"- machine: `{info['machine']}`, {info['cpu']}, {info['cores']} cores, "
        f"Linux {info['kernel']}",
        f"- Python {info['python']}; PyAV {info['versions']['av']}, "
        f"dlib-bin {info['versions']['dlib-bin']}",
        f"- watcher: {info['watcher_commit']}, source hash {info['watcher_source_before']}",
        f"- load average before {info['load_before']}, after {info['load_after']} "
        "(the machine is shared)",
        f"- camera: {result['settings']['camera']}, looping "
        f"`{result['loop']['video']}` ({result['loop']['period_s']:g} s a round, "
        f"{len(result['loop']['arrivals'])} unknown visitors), watcher's default settings "
        f"(analyse_fps {result['settings']['faces']['analyse_fps']:g}, confirm_frames "
        f"{result['settings']['faces']['confirm_frames']}, pre_capture_s {pre:g})",
        f"- daemon status at the end: `{result['status'] or 'none'}`",
        "",
        "| # | visitor | round | arrival in file (s) | arrival (UTC) | DB row after (s) "
        "| clip starts before arrival (s) | daemon's clip_started_at off by (s) |",
        "|--:|---|--:|--:|---|--:|--:|--:|",
    ]
    for i, a in enumerate(apps, 1):
        lines.append(
            f"| {i} | {a['visitor']} | {a['round']} | {a['loop_s']:.2f} | "
            f"{_hms(a['arrival_wall'])} | {_s(a['row_after_s'])} | {_s(a['clip_lead_s'])} | "
            f"{_s(a['clip_started_at_error_s'], '{:+.2f}')} |"
        )
    lines += [
        "",
        f"**DB row after the arrival frame**: median **{_s(median)} s**, max "
        f"**{_s(max(lat) if lat else None)} s** over {len(lat)} appearances "
        f"(goal: median < {GOAL_MEDIAN_S:g} s over ≥ {MIN_APPEARANCES}) — "
        f"{'met' if ok_latency else 'NOT met'}.",
        "",
        f"**Clip start**: at least {_s(min(leads) if leads else None)} s before the arrival "
        f"frame (goal: ≥ pre_capture_s = {pre:g} s for every clip) — "
        f"{'met' if ok_clips else 'NOT met'}.",
    ]
    if missed:
        lines.append(f"\nMissed (no event): {', '.join(str(apps.index(a) + 1) for a in missed)}.")
    if result["extra_events"]:
        lines.append(f"\nEvents matching no appearance: {', '.join(result['extra_events'])}.")
    if bad_match:
        lines.append(f"\nClip starts not identified exactly: {len(bad_match)}.")
    if errors:
        lines.append(
            f"\nThe daemon's own clip_started_at is off by {min(errors):+.2f} to "
            f"{max(errors):+.2f} s from the true wall time of the clip's first frame "
            "(its media clock's mapping to wall time; not used for the figures above)."
        )
    w = result["witness"]
    if w:
        lines.append(
            f"\nStream timing: packets came {w['median_jitter_ms']:.0f} ms (median) after "
            f"the earliest; drift over the run {w['drift_ms']:+.0f} ms."
        )
    lines += [
        "",
        "How it is measured: `python -m bench.latency` (see bench/latency/__init__.py). The "
        "arrival is the first frame with the face fully in view (bench/out/visitors.json), as "
        "a stream position; a witness client that only demuxes, the stream's first client, "
        "notes when that frame's packet reached it. The row's time is events.created_at (the "
        "daemon's writer thread, at insert). The clip's start is found by picture: its first "
        "frame decodes to exactly one keyframe of the looped file.",
        "",
    ]
    return "\n".join(lines)
