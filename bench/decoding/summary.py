"""Medians per (file, tool), the ratios to the floor, the decoded share and the events."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.footage.scenes import Visit
from bench.footage.variants import VariantFile
from bench.run.scoring import Score, score
from bench.run.tools import Run

STARTUP = "startup"  # the file name of the start-up row (1 s of empty video)


def visits_of(f: VariantFile) -> list[Visit]:
    """The file's ground truth as the scorer takes it."""
    return [Visit(**v) for v in f.visits]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Cell:
    """One tool on one file: its median CPU and what its first good run decided."""

    cpu_s: float | None
    runs: int
    failed: int
    output: dict[str, Any] | None = None
    score: Score | None = None
    vary: bool = False  # the repeats' events disagreed

    def decoded_share(self) -> float | None:
        """Decoded frames / frames, from watcher's replay JSON."""
        out = self.output or {}
        if "decoded_frames" not in out or not out.get("frames"):
            return None
        return float(out["decoded_frames"]) / float(out["frames"])


@dataclass
class Row:
    """One file: its three cells, and the start-up each tool pays."""

    name: str
    encoding: str
    seconds: float
    cells: dict[str, Cell] = field(default_factory=dict)

    def ratio(self, tool: str, startup: dict[str, float] | None = None) -> float | None:
        """CPU / the floor's; net of each one's start-up when `startup` is given."""
        a, b = self.cells[tool].cpu_s, self.cells["floor"].cpu_s
        if a is None or b is None:
            return None
        if startup is not None:
            a, b = a - startup.get(tool, 0.0), b - startup.get("floor", 0.0)
        return a / b if b > 0 else None

    def same_events(self) -> bool | None:
        """limited found the same unknown visitors as full, and no other event."""
        full, lim = self.cells["full"].score, self.cells.get("limited", Cell(None, 0, 0)).score
        if full is None or lim is None:
            return None
        return (
            set(full.latencies) == set(lim.latencies)
            and len(full.false) == len(lim.false)
            and not (self.cells["full"].vary or self.cells["limited"].vary)
        )


def cell(runs: list[Run], visits: list[Visit], tool: str) -> Cell:
    """The median and decisions of one tool's repeats on one file."""
    good = [r for r in runs if r.error is None]
    c = Cell(_median([r.numbers["cpu_s"] for r in good]), len(runs), len(runs) - len(good))
    if good and tool != "floor":
        c.output = good[-1].output  # the last repeat: the newest code if it changed mid-run
        scores = [score((r.output or {}).get("events", []), visits) for r in good]
        c.score = scores[0]
        c.vary = len({s.cell() for s in scores}) > 1
    return c


def summarise(runs: list[Run], files: list[VariantFile], tools: list[str]) -> list[Row]:
    """A row per file, in the files' order."""
    rows = []
    for f in files:
        row = Row(f.name, f.variant.describe(), f.duration_s)
        for tool in tools:
            mine = [r for r in runs if r.scene == f.name and r.tool == tool]
            row.cells[tool] = cell(mine, visits_of(f), tool)
        rows.append(row)
    return rows


def startup_cpu(runs: list[Run], tools: list[str]) -> dict[str, float]:
    """Each tool's median CPU on the start-up file."""
    out = {}
    for tool in tools:
        m = _median(
            [
                r.numbers["cpu_s"]
                for r in runs
                if r.scene == STARTUP and r.tool == tool and r.error is None
            ]
        )
        if m is not None:
            out[tool] = m
    return out
