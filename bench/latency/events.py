"""The daemon's event rows, and what was measured for each appearance."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# An event belongs to the appearance it follows within this window (created_at - arrival).
MATCH_EARLY_S, MATCH_LATE_S = 1.0, 10.0


@dataclass
class Measured:
    visitor: str
    round: int
    loop_s: float
    arrival_wall: float
    event: str | None = None
    row_after_s: float | None = None  # created_at - arrival
    clip_loop_s: float | None = None  # the clip's first frame, in the looped file
    clip_lead_s: float | None = None  # arrival - clip start
    clip_match: float | None = None  # mean grey difference of the keyframe match (0: identical)
    clip_started_at_error_s: float | None = None  # daemon's clip_started_at - true wall time


def _utc(stored: str | None) -> float | None:
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).timestamp()


def read_events(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT id, camera, created_at, started_at, clip_started_at, ended_at, clip_path,"
            " status FROM events ORDER BY created_at"
        ).fetchall()
    return [
        {
            **dict(r),
            "created": _utc(r["created_at"]),
            "started": _utc(r["started_at"]),
            "clip_started": _utc(r["clip_started_at"]),
        }
        for r in rows
    ]


def claim_event(
    events: list[dict[str, Any]], arrived: float, taken: set[str]
) -> dict[str, Any] | None:
    """The first event not taken yet whose row was created within the match window after
    an arrival at wall time `arrived`; it is taken from then on."""
    for e in events:
        created = e["created"]
        if e["id"] in taken or created is None:
            continue
        if arrived - MATCH_EARLY_S <= created <= arrived + MATCH_LATE_S:
            taken.add(e["id"])
            return e
    return None
