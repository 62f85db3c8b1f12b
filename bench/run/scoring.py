"""A tool's events judged against the ground truth: unknown visitors found, missed, false."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.footage.scenes import Visit

# An event matches an unknown visitor when it starts within this window around the arrival.
EARLY_S, LATE_S = 0.5, 1.0


@dataclass
class Score:
    """A tool's events judged against the ground truth."""

    expected: int
    latencies: dict[str, float] = field(default_factory=dict)  # unknown visitor -> start - arrival
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)  # unmatched events, described

    @property
    def found(self) -> int:
        return len(self.latencies)

    @property
    def correct(self) -> bool:
        return not self.missed and not self.false

    def cell(self) -> str:
        text = f"{self.found}/{self.expected}"
        if self.latencies:
            text += " (" + ", ".join(f"{v:+.2f}" for v in self.latencies.values()) + " s)"
        if self.missed:
            text += f", missed {len(self.missed)}"
        if self.false:
            text += f", {len(self.false)} false"
        return text


def _overlaps(start: float, end: float, visit: Visit) -> bool:
    lo = visit.enter_s if visit.enter_s is not None else visit.arrival_s
    hi = visit.exit_s if visit.exit_s is not None else visit.leave_s
    return start <= hi and end >= lo


def score(events: list[dict[str, Any]], visits: list[Visit]) -> Score:
    """Match events to unknown visitors: each visitor the earliest event that starts
    within [arrival - 0.5, arrival + 1.0] s. Any other event is false."""
    unknown = sorted((v for v in visits if not v.known), key=lambda v: v.arrival_s)
    result = Score(expected=len(unknown))
    pending = sorted(events, key=lambda e: float(e["start_s"]))
    for visit in unknown:
        for event in pending:
            start = float(event["start_s"])
            if visit.arrival_s - EARLY_S <= start <= visit.arrival_s + LATE_S:
                result.latencies[visit.person] = round(start - visit.arrival_s, 3)
                pending.remove(event)
                break
        else:
            result.missed.append(visit.person)
    for event in pending:
        start, end = float(event["start_s"]), float(event["end_s"])
        during = [v for v in visits if _overlaps(start, end, v)]
        if not during:
            why = "no one in view"
        else:
            why = "; ".join(
                f"during {'known' if v.known else 'unknown'} {v.person}"
                + ("" if v.known else f" ({start - v.arrival_s:+.2f} s from arrival)")
                for v in during
            )
        result.false.append(f"{start:.2f}-{end:.2f} s ({why})")
    return result
