"""Where an event's files go: recordings/<camera>/<YYYY-MM-DD>/<HHMMSS>-<event id>.<ext>."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watcher.constants import (
    CLIP_EXT,
    CLIP_TIME_FORMAT,
    DAY_DIR_FORMAT,
    FACE_CROP_SUFFIX,
    SNAPSHOT_EXT,
)


@dataclass(frozen=True)
class EventPaths:
    """The clip, snapshot and face crop of one event."""

    clip: Path
    snapshot: Path
    face: Path


def event_paths(recordings: Path, camera: str, started_at: datetime, event_id: str) -> EventPaths:
    """Paths for an event; folders and times are in the host's local time, as users browse them."""
    local = started_at.astimezone()
    stem = recordings / camera / local.strftime(DAY_DIR_FORMAT)
    base = f"{local.strftime(CLIP_TIME_FORMAT)}-{event_id}"
    return EventPaths(
        clip=stem / f"{base}{CLIP_EXT}",
        snapshot=stem / f"{base}{SNAPSHOT_EXT}",
        face=stem / f"{base}{FACE_CROP_SUFFIX}",
    )
