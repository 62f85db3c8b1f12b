"""What the store's reads return: plain, frozen records, detached from any connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


def _iso(value: datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 with its zone, or None."""
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class SightingRecord:
    """One stored sighting, as plain data."""

    at: datetime
    offset_s: float
    box: tuple[int, int, int, int]  # top, right, bottom, left
    name: str | None
    distance: float | None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (times as ISO 8601 strings with zone)."""
        return {
            "at": _iso(self.at),
            "offset_s": self.offset_s,
            "name": self.name,
            "distance": self.distance,
            "box": list(self.box),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event, as plain data detached from any session."""

    id: str
    camera: str
    started_at: datetime
    ended_at: datetime | None
    clip_path: str | None
    snapshot_path: str | None
    face_path: str | None
    faces: int
    closest_distance: float | None
    status: str
    host: str | None
    created_at: datetime
    # None when not loaded (list_events); a tuple, maybe empty, from get_event.
    sightings: tuple[SightingRecord, ...] | None = None
    # Wall time of the clip's first frame, when the pipeline recorded it.
    clip_started_at: datetime | None = None
    decision: str | None = None  # why the face was judged a stranger
    reviewed_at: datetime | None = None  # when a person marked it reviewed

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict; `sightings` is present only when they were loaded."""
        out: dict[str, Any] = {
            "id": self.id,
            "camera": self.camera,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "clip": self.clip_path,
            "snapshot": self.snapshot_path,
            "face": self.face_path,
            "faces": self.faces,
            "closest_distance": self.closest_distance,
            "status": self.status,
            "decision": self.decision,
        }
        if self.sightings is not None:
            out["sightings"] = [s.to_json() for s in self.sightings]
        return out


@dataclass(frozen=True, slots=True)
class EventIdentityRecord:
    """An unknown identity an event saw: its label, visits, and the name it was given."""

    label: str
    events: int
    named_as: str | None
