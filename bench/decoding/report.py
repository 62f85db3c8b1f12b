"""decoding.md: the side-by-side table, the packet sizes, and issue 15's goals 1 and 5."""

from __future__ import annotations

from typing import Any

from bench.decoding.summary import Cell, Row
from bench.footage.variants import VariantFile, stats_table

GOAL_10MIN = 0.35  # goal 1: the 10-minute empty file, start-up included
GOAL_STEADY = 0.25  # goal 1's steady state (live); here: net of start-up
LONG_FILE = "empty_10min-bench"

LEGEND = """\
- **CPU s**: user + system CPU of the tool's own process (every thread), median of the
  repeats, start-up included (imports, models, gallery: see the `startup` row).
- **× floor**: CPU ÷ the floor's on the same file; the floor decodes every frame with
  PyAV on one thread and does nothing else. **net**: both minus their own start-up
  (their median on 1 s of empty video): what a running daemon pays for the file.
- **decoded**: packets handed to the decoder ÷ frames in the file (watcher's replay
  JSON `decoded_frames`; a caught-up packet counts again). With `skip_nonref_frames`
  (the default) FFmpeg drops non-reference B-frames inside the decoder, so on the
  B-frame files (`-bench`, `-bframes`) `full` shows 100 % yet decodes less than the floor.
- **switches / catch-ups**: limited decoding's switches to decoding every frame, and
  the catch-ups that decoded the buffered frames since the last keyframe (frames).
- **events**: unknown visitors found / expected (event start − arrival, s); `false`
  counts any other event (for the known visitor, or in an empty stretch).
  **same**: `limited` found the same visitors as `full` and no other event.
"""


def _f(x: float | None, fmt: str = ".2f") -> str:
    return "–" if x is None else format(x, fmt)


def _x(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}×"


def _share(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _switches(out: dict[str, Any] | None) -> str:
    d = (out or {}).get("decoding") or {}
    if "switches" not in d:
        return "–"
    return f"{d['switches']} / {d.get('catch_ups', 0)} ({d.get('caught_up_frames', 0)})"


def _events(c: Cell | None) -> str:
    if c is None or c.score is None:
        return "–"
    return c.score.cell() + (" (varies)" if c.vary else "")


def table(rows: list[Row], startup: dict[str, float]) -> str:
    """The side-by-side table, one row per file."""
    lines = [
        "| file | floor CPU s | full CPU s (× floor) | limited CPU s (× floor) | limited × floor, "
        "net | decoded full / limited | switches / catch-ups | events full | events limited "
        "| same |",
        "|---|--:|--:|--:|--:|--:|--:|---|---|---|",
    ]
    for r in rows:
        fl, fu, li = r.cells["floor"], r.cells["full"], r.cells.get("limited")
        lim_cpu = li.cpu_s if li else None
        same = r.same_events()
        lines.append(
            f"| {r.name} | {_f(fl.cpu_s)} | {_f(fu.cpu_s)} ({_x(r.ratio('full'))}) "
            f"| {_f(lim_cpu)} ({_x(r.ratio('limited') if li else None)}) "
            f"| {_x(r.ratio('limited', startup) if li else None)} "
            f"| {_share(fu.decoded_share())} / {_share(li.decoded_share() if li else None)} "
            f"| {_switches(li.output if li else None)} "
            f"| {_events(fu)} | {_events(li)} "
            f"| {'–' if same is None else ('yes' if same else '**no**')} |"
        )
    return "\n".join(lines)


def goals(rows: list[Row], startup: dict[str, float]) -> str:
    """Goal 1 (the 10-minute file) and goal 5 (every variant), checked against the medians."""
    out = []
    by = {r.name: r for r in rows}
    long = by.get(LONG_FILE)
    if long is not None and "limited" in long.cells:
        x = long.ratio("limited")
        ok = x is not None and x <= GOAL_10MIN
        out.append(
            f"- goal 1, 10-minute empty replay, start-up included: limited {_x(x)} the floor "
            f"(goal ≤ {GOAL_10MIN}×): **{'met' if ok else 'NOT met'}**"
        )
    for r in rows:
        if "limited" not in r.cells or r.name == LONG_FILE:
            continue
        if r.name.startswith("empty"):
            x = r.ratio("limited", startup)
            ok = x is not None and x <= GOAL_STEADY
            what = f"net of start-up {_x(x)} the floor (≤ {GOAL_STEADY}×)"
        else:
            lim = r.cells["limited"].score
            ok = bool(r.same_events()) and lim is not None and lim.correct
            what = "every unknown visitor found, none false, as full" if ok else "events differ"
        out.append(f"- goal 5, {r.name}: {what}: **{'holds' if ok else 'does NOT hold'}**")
    return "\n".join(out)


def report(
    info: dict[str, Any],
    rows: list[Row],
    startup: dict[str, float],
    files: list[VariantFile],
    repeat: int,
) -> str:
    """The whole of decoding.md."""
    st = ", ".join(f"{t} {v:.2f} s" for t, v in startup.items())
    head = [
        "# Below the decode floor (issue 15): floor vs watcher `full` vs `limited`\n",
        f"- date: {info['date']}; {info['machine']}, {info['cpu']}, {info['cores']} cores "
        f"(shared); load before {info['load_before']}, after {info.get('load_after')}",
        f"- watcher {info['watcher_commit']}; source hash {info['watcher_source_before']}"
        + (
            ""
            if info.get("watcher_source_after") == info["watcher_source_before"]
            else f" → **{info.get('watcher_source_after')} (changed during the run)**"
        ),
        f"- {repeat} repeat(s), interleaved; medians. Start-up (1 s of empty video): {st}",
        f"- limited decoding measured: {'yes' if info.get('limited') else 'NO (key missing)'}",
    ]
    if info.get("merged_from"):
        head.append(
            "- merged runs, a later run's (file, tool) cells replacing an earlier one's: "
            + "; ".join(info["merged_from"])
        )
    head.append("")
    return "\n".join(
        [
            *head,
            table(rows, startup),
            "",
            LEGEND,
            "## Goals\n",
            goals(rows, startup),
            "",
            "## Packet sizes (bytes, p5 / median / p95): do they follow motion?\n",
            stats_table(files),
            "",
        ]
    )
