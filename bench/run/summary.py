"""The repeats of every (scene, tool) reduced to medians, and the tables of them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.footage.scenes import Scene
from bench.run.scoring import Score, score
from bench.run.tools import Run, applies


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Row:
    scene: str
    tool: str
    cpu_s: float | None
    wall_s: float | None
    peak_mb: float | None
    multi_process: bool
    runs: int
    failed: int
    score: Score | None
    decisions_vary: bool


def summarise(runs: list[Run], scenes: list[Scene], tools: list[str]) -> list[Row]:
    rows = []
    for scene in scenes:
        for tool in tools:
            if not applies(tool, scene):
                continue
            mine = [r for r in runs if r.scene == scene.name and r.tool == tool]
            good = [r for r in mine if r.error is None]
            scores = [
                score(r.output.get("events", []), scene.visits)
                for r in good
                if tool != "floor" and r.output is not None
            ]
            cells = {s.cell() for s in scores}
            rows.append(
                Row(
                    scene=scene.name,
                    tool=tool,
                    cpu_s=_median([r.numbers["cpu_s"] for r in good]),
                    wall_s=_median([r.numbers["wall_s"] for r in good]),
                    peak_mb=_median([r.numbers["peak_mb"] for r in good]),
                    multi_process=any(r.numbers["max_procs"] > 1 for r in good),
                    runs=len(mine),
                    failed=len(mine) - len(good),
                    score=scores[0] if scores else None,
                    decisions_vary=len(cells) > 1,
                )
            )
    return rows


def table(rows: list[Row]) -> str:
    head = (
        "| scene | tool | CPU s (median) | × floor | ÷ naive | events found / expected "
        "(arrival latency) | peak RSS MB | wall s |"
    )
    lines = [head, "|---|---|--:|--:|--:|---|--:|--:|"]
    for row in rows:
        floor = next((r for r in rows if r.scene == row.scene and r.tool == "floor"), None)
        naive = next((r for r in rows if r.scene == row.scene and r.tool == "naive"), None)
        if row.cpu_s is None:
            lines.append(
                f"| {row.scene} | {row.tool} | FAILED ({row.failed}/{row.runs}) | | | | | |"
            )
            continue
        x_floor = f"{row.cpu_s / floor.cpu_s:.2f}" if floor and floor.cpu_s else "–"
        if naive and naive.cpu_s:
            ratio = naive.cpu_s / row.cpu_s
            if row.tool == "naive":
                of_naive = "1"
            else:
                of_naive = f"1/{ratio:.1f}" if ratio >= 1 else f"{1 / ratio:.1f}×"
        else:
            of_naive = "–"
        events = "–" if row.score is None else row.score.cell()
        if row.decisions_vary:
            events += " (varies)"
        if row.failed:
            events += f" [{row.failed} failed]"
        rss = f"{row.peak_mb:.0f}" + ("†" if row.multi_process else "")
        lines.append(
            f"| {row.scene} | {row.tool} | {row.cpu_s:.2f} | {x_floor} | {of_naive} | {events} "
            f"| {rss} | {row.wall_s:.2f} |"
        )
    return "\n".join(lines)


def net_table(rows: list[Row]) -> str:
    """CPU net of each tool's start-up cost (its `startup` median), for the longer scenes."""
    startup = {r.tool: r.cpu_s for r in rows if r.scene == "startup" and r.cpu_s is not None}
    if not startup:
        return ""
    lines = [
        "| scene | tool | net CPU s | × floor (net) | ÷ naive (net) |",
        "|---|---|--:|--:|--:|",
    ]
    for row in rows:
        if row.scene == "startup" or row.cpu_s is None or row.tool not in startup:
            continue
        net = max(0.0, row.cpu_s - startup[row.tool])

        def other(tool: str, scene: str = row.scene) -> float | None:
            r = next((r for r in rows if r.scene == scene and r.tool == tool), None)
            if r is None or r.cpu_s is None or tool not in startup:
                return None
            return max(0.0, r.cpu_s - startup[tool])

        floor, naive = other("floor"), other("naive")
        x_floor = f"{net / floor:.2f}" if floor else "–"
        if row.tool == "naive":
            of_naive = "1"
        elif naive and net:
            of_naive = f"1/{naive / net:.1f}"
        else:
            of_naive = "–"
        lines.append(f"| {row.scene} | {row.tool} | {net:.2f} | {x_floor} | {of_naive} |")
    return "\n".join(lines)
