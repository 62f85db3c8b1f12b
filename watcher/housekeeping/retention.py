"""Retention: the oldest events go first when a limit is passed; files and rows go together."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine

from watcher.constants import EVENT_OPEN
from watcher.housekeeping.inventory import EventRow, load_crops, load_rows, media, relative, scan
from watcher.housekeeping.orphans import ORPHAN_GRACE_S, prune_dirs, repair, sweep
from watcher.housekeeping.removal import Removal
from watcher.housekeeping.report import FREE_LIMIT, GB, SIZE_LIMIT, RetentionReport, gb

log = logging.getLogger("watcher.retention")

DEFAULT_INTERVAL_S: Final = 600.0

DiskUsage = Callable[[Path], Any]  # returns an object with .free, like shutil.disk_usage


def enforce(
    engine: Engine,
    recordings_dir: Path,
    *,
    max_age_days: float | None,
    max_disk_gb: float | None,
    min_free_gb: float | None,
    active_clips: Collection[Path] = frozenset(),
    now: datetime | None = None,
    host: str | None = None,
    orphan_grace_s: float = ORPHAN_GRACE_S,
    disk_usage: DiskUsage = shutil.disk_usage,
    warned: set[str] | None = None,
) -> RetentionReport:
    """One retention pass over recordings_dir and the events table; logs one line.

    `warned`: the limits already warned about by earlier passes (updated here), so a
    limit that stays passed is a warning once; None warns at every pass.
    """
    now = datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    root = Path(os.path.abspath(recordings_dir))
    if not root.is_dir():
        return RetentionReport()
    real_root = root.resolve()
    # Rows first, then files: a row closed before this point has its files on disk
    # already, and a file that appears later is young and protected by the grace period.
    rows = load_rows(engine, root, real_root, host)
    crops = load_crops(engine, root, real_root)
    files, dirs = scan(root)
    state = Removal(root, files)
    report = state.report
    free = int(disk_usage(root).free)
    # Only watcher's own media count toward max_disk_gb: a backup, the database or
    # anything else in the folder is not ours to make room for.
    total = sum(f.size for rel, f in files.items() if media(rel.name) is not None)

    active = {r for p in active_clips if (r := relative(p, root, real_root)) is not None}
    active_ids = {m[0] for r in active if (m := media(r.name)) is not None}

    def untouchable(row: EventRow) -> bool:
        hit = row.id in active_ids or any(r in active for r in row.rel.values())
        return not row.mine or row.status == EVENT_OPEN or hit

    candidates = []
    for row in rows:
        if untouchable(row):
            continue
        clip = row.rel["clip_path"]
        if clip is not None and not state.exists(clip):
            state.remove_event(row, "vanished")  # its clip is gone: the event is worthless
        else:
            repair(state, row)
            candidates.append(row)

    too_old = None if max_age_days is None else now - timedelta(days=max_age_days)
    cutoff_ts = now.timestamp() - orphan_grace_s
    sweep(
        state,
        rows=rows,
        crops=crops,
        active=active,
        active_ids=active_ids,
        too_old=too_old,
        cutoff_ts=cutoff_ts,
    )

    max_bytes = None if max_disk_gb is None else int(max_disk_gb * GB)
    min_free = None if min_free_gb is None else int(min_free_gb * GB)
    candidates.sort(key=lambda r: (r.started_at, r.id))
    # What removing every candidate could free at most: a limit beyond it is not chased.
    removable = sum(state.event_bytes(row) for row in candidates)
    used_now = total - report.bytes_freed
    free_now = free + report.bytes_freed
    if max_bytes is not None and used_now - removable > max_bytes:
        report.unmeetable[SIZE_LIMIT] = (
            f"watcher's recordings are {gb(used_now)}, over max_disk_gb {gb(max_bytes)}, "
            f"and {gb(used_now - removable)} of them must stay (clips being written, open "
            "events, clips the database does not list): no event removed for size"
        )
        max_bytes = None
    free_target = min_free
    if min_free is not None and free_now + removable < min_free:
        # Something else fills the disk: removing every event would not make the room,
        # and each new event would go at the next pass. Keep them all, and say so.
        report.unmeetable[FREE_LIMIT] = (
            f"{gb(free_now)} free on the recordings disk, under min_free_gb {gb(min_free)}, "
            f"and removing all of watcher's recordings ({gb(removable)}) would not make up "
            "for it: something else is filling this disk; recordings are kept, no event "
            "removed for free space"
        )
        free_target = None
    for row in candidates:
        used = total - report.bytes_freed
        if too_old is not None and row.started_at < too_old:
            reason = "age"
        elif max_bytes is not None and used > max_bytes:
            reason = "size"
        elif free_target is not None and free + report.bytes_freed < free_target:
            reason = "free"
        else:
            break  # oldest first: once one may stay, every newer one may too
        state.remove_event(row, reason)

    state.commit(engine)
    prune_dirs(root, dirs, now.astimezone().date())
    report.total_bytes = total - report.bytes_freed
    report.free_bytes = free + report.bytes_freed
    if max_disk_gb is not None and report.total_bytes > int(max_disk_gb * GB):
        report.over_limit.append(SIZE_LIMIT)
    if min_free is not None and report.free_bytes < min_free:
        report.over_limit.append(FREE_LIMIT)
    _log(report, state.first_error, warned)
    return report


def _log(report: RetentionReport, first_error: str | None, warned: set[str] | None) -> None:
    """One line per pass: INFO when it did something, WARNING when a limit newly holds.

    `warned` (kept by the caller across passes) holds the limits already warned
    about: a limit that stays passed is said once, not every pass, and its end is said.
    """
    text = "retention: " + report.summary()
    if first_error:
        text += f" (first: {first_error})"
    new = [k for k in report.over_limit if warned is None or k not in warned]
    if new or report.failed_files:
        why = [report.unmeetable[k] for k in new if k in report.unmeetable]
        log.warning("%s", "; ".join([text, *why]))
    elif (
        report.events_removed
        or report.orphan_files
        or report.repaired_rows
        or report.unlisted_clips
    ):
        log.info("%s", text)
    else:
        log.debug("%s", text)
    if warned is not None:
        for limit in sorted(warned - set(report.over_limit)):
            log.info("retention: back within the %s limit", limit)
        warned.clear()
        warned.update(report.over_limit)
