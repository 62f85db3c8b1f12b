"""The state of one event in progress, and its summary once finished."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from watcher.decide.tracker import Sighting
from watcher.record.paths import EventPaths

_EVENT_ID_HEX = 12


def new_event_id() -> str:
    """A short random id: unique across cameras and hosts sharing one database."""
    return uuid.uuid4().hex[:_EVENT_ID_HEX]


@dataclass
class ActiveEvent:
    """An event being recorded: what capture and analysis decide on (files: the recorder)."""

    id: str
    camera: str
    start_t: float  # media time of the first unknown sighting
    started_at: datetime
    paths: EventPaths
    deadline_t: float  # the clip ends after this media time unless a stranger is seen again
    wall: Callable[[float], datetime]  # media time -> wall time, by the stream's clock
    sent_first_t: float | None = None  # media time of the first keyframe handed to the clip
    sent_last_t: float | None = None  # ...and of the last packet handed to it
    snapshot_taken: bool = False
    sightings: list[Sighting] = field(default_factory=list)
    closest: float | None = None
    cropped: dict[int, int] = field(default_factory=dict)  # track -> height of its last crop
    crops: int = 0  # face crops named so far
    decision: str | None = None  # why its faces were judged strangers

    def add(self, sightings: list[Sighting]) -> None:
        """Keep sightings (without their pixels) and the closest distance of an unknown face."""
        self.sightings.extend(replace(s, evidence=None) for s in sightings)
        for s in sightings:
            if s.name is None and s.distance is not None:
                self.closest = s.distance if self.closest is None else min(self.closest, s.distance)

    @property
    def faces(self) -> int:
        """Distinct faces (tracks) seen during the event."""
        return len({s.track_id for s in self.sightings})


@dataclass(frozen=True)
class FinishedEvent:
    """An event as `watcher replay` reports it (times in media seconds)."""

    id: str
    camera: str
    start_s: float
    end_s: float
    clip_start_s: float | None
    clip: str | None
    snapshot: str | None
    status: str
    faces: list[Sighting]
    decision: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The replay JSON shape of an event."""
        return {
            "id": self.id,
            "camera": self.camera,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "clip_start_s": None if self.clip_start_s is None else round(self.clip_start_s, 3),
            "clip": self.clip,
            "snapshot": self.snapshot,
            "status": self.status,
            "decision": self.decision,
            "faces": [
                {
                    "t_s": round(s.t, 3),
                    "name": s.name,
                    "distance": None if s.distance is None else round(s.distance, 4),
                    "box": list(s.box),
                    "note": s.note,
                }
                for s in self.faces
            ],
        }
