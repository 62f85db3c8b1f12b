"""Orphans: rows and files that no longer agree, files no row names, empty day folders."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path
from typing import Final

from watcher.constants import DAY_DIR_FORMAT, EVENT_INTERRUPTED
from watcher.housekeeping.inventory import FIELDS, SIGHTING_CROP, EventRow, media
from watcher.housekeeping.removal import Removal

ORPHAN_GRACE_S: Final = 600.0  # a file this young may belong to an event not yet in the DB


def repair(state: Removal, row: EventRow) -> None:
    """Make a closed row and its files agree: clear vanished paths, settle unnamed files."""
    changes: dict[str, str | None] = {}
    for f in FIELDS:
        rel = row.rel[f]
        if rel is not None and not state.exists(rel):
            changes[f] = None
    stray = []
    for rel in sorted(state.by_id.get(row.id, set()) - set(row.rel.values())):
        found = media(rel.name)
        if found is None or found[1] == SIGHTING_CROP:
            continue  # sighting crops are settled by the orphan sweep
        # A lost update (crash, dropped write) leaves a good file unnamed: adopt it.
        # But a clip missing from a cleanly closed row was left out on purpose
        # (no frame written): that one is junk.
        adopt = found[1] != "clip_path" or row.status == EVENT_INTERRUPTED
        if adopt and row.raw[found[1]] is None:
            changes[found[1]] = str(state.root / rel)
        else:
            stray.append(rel)
    state.report.orphan_files += len(state.unlink(stray))
    if changes:
        state.updates.setdefault(row.id, {}).update(changes)
        state.report.repaired_rows += 1


def sweep(
    state: Removal,
    *,
    rows: Collection[EventRow],
    crops: Collection[Path],
    active: Collection[Path],
    active_ids: Collection[str],
    too_old: datetime | None,
    cutoff_ts: float,
) -> None:
    """Remove media files no row names, once older than the grace period.

    An event's own files are settled with its row (repair); its sighting crops
    here, when no sighting names them. A clip whose row was lost (the database
    was down) is still a recording: kept until it is as old as retention allows,
    and counted.
    """
    report = state.report
    referenced = {r for row in rows for r in row.rel.values() if r is not None}
    known_ids = {row.id for row in rows}
    for rel, meta in list(state.files.items()):
        found = media(rel.name)
        if found is None or rel in referenced or rel in crops:
            continue
        if found[0] in known_ids and found[1] != SIGHTING_CROP:
            continue
        if rel in active or found[0] in active_ids or meta.mtime > cutoff_ts:
            continue
        if found[1] == "clip_path" and (too_old is None or meta.mtime > too_old.timestamp()):
            report.unlisted_clips += 1
            continue
        if state.unlink([rel]):
            report.orphan_files += 1


def prune_dirs(root: Path, dirs: list[Path], today: date) -> None:
    """Remove empty day folders of past days (today's may be about to get a clip)."""
    for rel in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        try:
            day = datetime.strptime(rel.name, DAY_DIR_FORMAT).date()
        except ValueError:
            continue
        if day < today:
            with contextlib.suppress(OSError):  # not empty, or already gone
                (root / rel).rmdir()
