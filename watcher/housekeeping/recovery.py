"""Crash recovery: close the events a killed run left open, at their clip's last frame."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.orm import Session

from watcher.constants import CLIP_EXT, EVENT_INTERRUPTED, EVENT_OPEN
from watcher.log import FaultLog
from watcher.record.paths import event_paths
from watcher.record.probe import is_playable, last_frame_seconds, repair_clip
from watcher.store.models import Event, Sighting

log = logging.getLogger("watcher.store")


@dataclass(frozen=True, slots=True)
class _Open:
    """What recovery needs to know of one event left open."""

    id: str
    camera: str
    started_at: datetime
    clip_started_at: datetime | None
    clip_path: str | None
    last_sighting: datetime | None


def _open_events(engine: Engine, host: str | None) -> list[_Open]:
    """Events still open that belong to `host` or to no host, with their last sighting."""
    last = (
        select(func.max(Sighting.at))
        .where(Sighting.event_id == Event.id)
        .correlate(Event)
        .scalar_subquery()
    )
    owner = Event.host.is_(None) if host is None else or_(Event.host == host, Event.host.is_(None))
    query = (
        select(
            Event.id,
            Event.camera,
            Event.started_at,
            Event.clip_started_at,
            Event.clip_path,
            last.label("last_sighting"),
        )
        .where(Event.status == EVENT_OPEN, owner)
        .order_by(Event.started_at)
    )
    with Session(engine) as session:
        return [_Open(*row) for row in session.execute(query)]


def _find_clip(event: _Open, recordings: Path | None) -> Path | None:
    """The event's clip on disk: its stored path, else where the recorder puts it."""
    candidates: list[Path] = []
    if event.clip_path:
        candidates.append(Path(event.clip_path))
    if recordings is not None:
        candidates.append(event_paths(recordings, event.camera, event.started_at, event.id).clip)
        # The day folder is local time: a changed time zone moves it; the id does not change.
        candidates.extend(sorted((recordings / event.camera).glob(f"*/*-{event.id}{CLIP_EXT}")))
    return next((path for path in candidates if path.is_file()), None)


def _clip_end(event: _Open, clip: Path) -> datetime | None:
    """Wall time of the clip's last decodable frame, after repairing a torn tail."""
    repaired = repair_clip(clip)
    seconds = last_frame_seconds(clip)
    if seconds is None:
        log.warning("store: event %s: clip %s has no decodable frame", event.id, clip)
        return None
    if not is_playable(clip):
        log.warning("store: event %s: clip %s does not play as it is", event.id, clip)
    start = event.clip_started_at or event.started_at
    log.info(
        "store: event %s: clip %s lasts %.2f s%s",
        event.id,
        clip,
        seconds,
        " (torn tail repaired)" if repaired else "",
    )
    return start + timedelta(seconds=seconds)


def _end_time(event: _Open, clip: Path | None) -> datetime:
    """The clip's last frame; else the last sighting; else the start."""
    end = None
    if clip is not None:
        try:
            end = _clip_end(event, clip)
        except Exception as exc:  # one bad file must not stop the daemon from starting
            # The probe reports a damaged clip itself: what comes here is a disk fault
            # (one line) or a bug (its traceback).
            FaultLog(log).failed(
                exc, "store: event %s: clip %s not probed", event.id, clip, level=logging.WARNING
            )
    if end is None:
        end = event.last_sighting or event.started_at
    return max(end, event.started_at)  # never before the start (e.g. the clock stepped back)


def recover_open_events(engine: Engine, host: str | None, *, recordings: Path | None = None) -> int:
    """Close events left open by a crash (this host's or no host's); return how many.

    Each is marked interrupted and ends at its clip's last decodable frame (a torn
    clip is repaired first), else at its last sighting, else at its start. With
    `recordings`, a clip whose path was not stored yet is found by its event id.
    """
    closed = 0
    for event in _open_events(engine, host):
        clip = _find_clip(event, recordings)
        ended_at = _end_time(event, clip)
        values: dict[str, object] = {"status": EVENT_INTERRUPTED, "ended_at": ended_at}
        if clip is not None and not event.clip_path:
            values["clip_path"] = str(clip)
        with engine.begin() as conn:
            # Only if still open: another process may have closed it meanwhile.
            query = update(Event).where(Event.id == event.id, Event.status == EVENT_OPEN)
            done = conn.execute(query.values(values)).rowcount
        if done:
            closed += done
            log.info("store: event %s closed as interrupted at %s", event.id, ended_at.isoformat())
    if closed:
        log.info("store: %d event(s) left open by a previous run recovered", closed)
    return closed
