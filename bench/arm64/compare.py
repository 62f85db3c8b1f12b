"""Two `watcher replay` documents of one clip, x86-64 and arm64: are the events the same?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    """How one clip's arm64 replay compares with its x86-64 replay."""

    same: bool
    # Why not, one short phrase each (empty when `same`).
    differences: list[str] = field(default_factory=list)
    # Largest |start_s| gap between paired events, seconds (0 with no events).
    max_start_gap_s: float = 0.0
    # Largest gap between the distances the two machines measured for one face sighting.
    max_distance_gap: float = 0.0


def identities(event: dict[str, Any]) -> list[str]:
    """Who an event saw: the known names and `unknown`, sorted, once each."""
    return sorted({face["name"] or UNKNOWN for face in event["faces"]})


def verdict_of(event: dict[str, Any]) -> str:
    """The event's decision in one word (`unknown`, or whatever precedes its colon)."""
    return str(event.get("decision") or "").split(":", 1)[0]


def _distance_gap(x86: dict[str, Any], arm: dict[str, Any]) -> float:
    """Largest distance gap over the sightings both machines made at the same time."""
    theirs = {round(f["t_s"], 3): f["distance"] for f in arm["faces"]}
    gaps = [
        abs(f["distance"] - theirs[round(f["t_s"], 3)])
        for f in x86["faces"]
        if f["distance"] is not None and theirs.get(round(f["t_s"], 3)) is not None
    ]
    return max(gaps, default=0.0)


def compare(x86: dict[str, Any], arm: dict[str, Any], frame_s: float, frames: int = 2) -> Verdict:
    """Same number of events, same identities, starts within `frames` frames of each other."""
    differences: list[str] = []
    ours, theirs = x86["events"], arm["events"]
    if len(ours) != len(theirs):
        differences.append(f"{len(ours)} events on x86-64, {len(theirs)} on arm64")
    gap = dist = 0.0
    # Paired in time order; a count that differs is reported above, the rest still compared.
    by_start = sorted(ours, key=lambda e: e["start_s"]), sorted(theirs, key=lambda e: e["start_s"])
    pairs = zip(*by_start, strict=False)
    for n, (a, b) in enumerate(pairs, 1):
        gap = max(gap, abs(a["start_s"] - b["start_s"]))
        dist = max(dist, _distance_gap(a, b))
        if identities(a) != identities(b) or verdict_of(a) != verdict_of(b):
            differences.append(
                f"event {n}: {verdict_of(a)} {identities(a)} vs {verdict_of(b)} {identities(b)}"
            )
    # Half a frame of slack: start times are rounded to the millisecond.
    if gap > (frames + 0.5) * frame_s:
        differences.append(f"starts {gap:.3f} s apart (> {frames} frames)")
    # The work done must match too: a face found on one machine only would show here.
    for key in ("frames", "analysed_frames", "gated_frames", "embeddings"):
        if x86.get(key) != arm.get(key):
            differences.append(f"{key} {x86.get(key)} vs {arm.get(key)}")
    return Verdict(not differences, differences, gap, dist)
