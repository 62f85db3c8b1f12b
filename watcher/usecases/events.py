"""Delete an event with its files: clip, snapshot, crops and rows together, as retention does."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from watcher.constants import EVENT_OPEN
from watcher.housekeeping.inventory import event_files, load_rows
from watcher.housekeeping.removal import Removal
from watcher.housekeeping.report import gb

log = logging.getLogger("watcher.events")

_REASON = "deleted"


class EventNotDeleted(ValueError):
    """The event cannot be deleted (as a whole); the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class DeletedEvent:
    """What deleting an event removed."""

    event_id: str
    files: tuple[Path, ...]  # removed from disk
    bytes_freed: int


def delete_event(
    engine: Engine, recordings_dir: Path, event_id: str, *, host: str | None = None
) -> DeletedEvent:
    """Remove one event: its files first, then (if they all went) its rows.

    The files are those its row names and every media file named with its id
    (the sighting crops too); the rows are the event, its sightings and its
    links to unknown identities, whose counts are made right. Refused
    (EventNotDeleted) for an unknown id, an event still recording, another
    host's event (with `host`) or one whose files lie outside recordings_dir.
    A file that cannot be removed keeps the event (minus the paths now gone).
    """
    root = Path(os.path.abspath(recordings_dir))
    real_root = root.resolve()
    rows = load_rows(engine, root, real_root, host, event_id=event_id)
    if not rows:
        raise EventNotDeleted(f"no event {event_id!r}")
    row = rows[0]
    if row.status == EVENT_OPEN:
        raise EventNotDeleted(f"event {event_id} is still recording")
    if not row.mine:
        raise EventNotDeleted(
            f"event {event_id} is not this host's to delete (another host's, or its files "
            f"are outside {root})"
        )
    state = Removal(root, event_files(engine, root, real_root, row))
    files = tuple(sorted(root / rel for rel in state.event_files(row) if rel in state.files))
    done = state.remove_event(row, _REASON)
    state.commit(engine)
    if not done:
        raise EventNotDeleted(f"event {event_id} kept: {state.first_error}")
    report = state.report
    log.info(
        "event %s deleted: %d file(s), %s", event_id, report.files_removed, gb(report.bytes_freed)
    )
    return DeletedEvent(event_id, files, report.bytes_freed)
