"""Retention: the oldest events go first when a limit is passed; files and rows go together."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, NamedTuple

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from watcher.constants import (
    CLIP_EXT,
    DAY_DIR_FORMAT,
    EVENT_INTERRUPTED,
    EVENT_OPEN,
    FACE_CROP_SUFFIX,
    SNAPSHOT_EXT,
)
from watcher.store.grouping import refresh_identities
from watcher.store.models import Event, EventIdentity, Sighting

log = logging.getLogger("watcher.retention")

GB: Final = 1_000_000_000  # decimal, as disks are sold and `df -H` shows
ORPHAN_GRACE_S: Final = 600.0  # a file this young may belong to an event not yet in the DB
DEFAULT_INTERVAL_S: Final = 600.0
SIZE_LIMIT: Final = "size"
FREE_LIMIT: Final = "free-space"
_FIELDS: Final = ("clip_path", "snapshot_path", "face_path")
_BATCH: Final = 500  # stays under SQLite's bound-parameter limit
# Unknown-face crops of single sightings: <HHMMSS>-<event id>-face-<n>.jpg. Their
# paths are in sightings rows, not in the event's: they go with their event, and
# a crop no sighting names (privacy expiry failed half-way, a lost write) is an orphan.
SIGHTING_CROP: Final = "sighting_crop"
_SIGHTING_CROP_RE: Final = re.escape(FACE_CROP_SUFFIX.removesuffix(SNAPSHOT_EXT)) + (
    r"-\d+" + re.escape(SNAPSHOT_EXT)
)
# <HHMMSS>-<event id>.mp4 | .jpg | -face.jpg (watcher.record.paths) | -face-<n>.jpg.
_MEDIA = re.compile(
    r"^\d{6}-(?P<id>[0-9A-Za-z]+)(?:(?P<crop>"
    + _SIGHTING_CROP_RE
    + r")|(?P<kind>"
    + "|".join(re.escape(s) for s in (FACE_CROP_SUFFIX, CLIP_EXT, SNAPSHOT_EXT))
    + r"))$"
)
_KIND_FIELD: Final = {
    CLIP_EXT: "clip_path",
    SNAPSHOT_EXT: "snapshot_path",
    FACE_CROP_SUFFIX: "face_path",
}

DiskUsage = Callable[[Path], Any]  # returns an object with .free, like shutil.disk_usage


@dataclass(frozen=True, slots=True)
class RetentionLimits:
    """How much to keep; None switches a limit off."""

    max_age_days: float | None = 14
    max_disk_gb: float | None = 20
    min_free_gb: float | None = 1


@dataclass(slots=True)
class RetentionReport:
    """What one pass removed, and where the limits stand after it."""

    removed: dict[str, int] = field(default_factory=dict)  # events per reason
    removed_ids: list[str] = field(default_factory=list)
    orphan_files: int = 0
    unlisted_clips: int = 0  # clips without a database row, kept until max_age_days
    repaired_rows: int = 0  # paths of vanished files cleared, or found files adopted
    files_removed: int = 0
    bytes_freed: int = 0
    failed_files: int = 0
    total_bytes: int = 0  # watcher's clips, snapshots and crops after the pass
    free_bytes: int = 0  # free space on its filesystem after the pass (estimated)
    over_limit: list[str] = field(default_factory=list)  # limits still passed
    # Limits that removing every event retention may remove could not meet: watcher's
    # own files that must stay (clips being written, open events, clips without a row)
    # pass max_disk_gb, or something else fills the disk. Not chased: no purge.
    unmeetable: dict[str, str] = field(default_factory=dict)  # limit -> why, for the log

    @property
    def events_removed(self) -> int:
        """Events removed, all reasons together."""
        return sum(self.removed.values())

    def summary(self) -> str:
        """One log line."""
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.removed.items()))
        text = (
            f"removed {self.events_removed} event(s){f' ({reasons})' if reasons else ''}, "
            f"{self.orphan_files} orphan file(s), repaired {self.repaired_rows} row(s); "
            f"freed {_gb(self.bytes_freed)}; recordings {_gb(self.total_bytes)}, "
            f"{_gb(self.free_bytes)} free"
        )
        if self.unlisted_clips:
            text += f"; kept {self.unlisted_clips} clip(s) the database does not list"
        if self.failed_files:
            text += f"; {self.failed_files} file(s) could not be removed"
        if self.over_limit:
            text += f"; still over {', '.join(self.over_limit)} limit"
        return text


class _File(NamedTuple):
    size: int
    mtime: float


@dataclass(slots=True)
class _Row:
    id: str
    started_at: datetime
    status: str
    mine: bool
    raw: dict[str, str | None]
    rel: dict[str, Path | None]  # relative to recordings_dir; None: no path or outside


def _gb(n: int) -> str:
    """A byte count for a log line: GB, MB or bytes."""
    if n >= GB:
        return f"{n / GB:.3g} GB"
    return f"{n / 1_000_000:.3g} MB" if n >= 1_000_000 else f"{n} B"


def _media(name: str) -> tuple[str, str] | None:
    """(event id, row field) of a media file name, or None for other files (the database...)."""
    m = _MEDIA.match(name)
    if m is None:
        return None
    return m["id"], SIGHTING_CROP if m["crop"] else _KIND_FIELD[m["kind"]]


def _relative(value: str | Path, root: Path, real_root: Path) -> Path | None:
    """`value` relative to recordings_dir (through symlinks too), None when outside it."""
    path = Path(os.path.abspath(Path(value).expanduser()))
    for base, candidate in ((root, path), (real_root, path.resolve())):
        try:
            return candidate.relative_to(base)
        except ValueError:
            continue
    return None


def _scan(root: Path) -> tuple[dict[Path, _File], list[Path]]:
    """Every regular file under root (relative path -> size, mtime) and every folder."""
    files: dict[Path, _File] = {}
    dirs: list[Path] = []
    stack = [Path()]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(root / rel))
        except OSError:
            continue  # vanished or unreadable: nothing to manage in it
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel / entry.name)
                    dirs.append(rel / entry.name)
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    files[rel / entry.name] = _File(st.st_size, st.st_mtime)
            except OSError:
                continue
    return files, dirs


def _load_crops(engine: Engine, root: Path, real_root: Path) -> set[Path]:
    """Sighting crops the database names (relative to root): never orphans."""
    query = select(Sighting.crop_path).where(Sighting.crop_path.is_not(None))
    with Session(engine) as session:
        paths = session.scalars(query).all()
    return {r for p in paths if p is not None and (r := _relative(p, root, real_root)) is not None}


def _load_rows(engine: Engine, root: Path, real_root: Path, host: str | None) -> list[_Row]:
    """Every event row; `mine` when this host may manage it (its files under root)."""
    query = select(
        Event.id, Event.started_at, Event.status, Event.host, *(getattr(Event, f) for f in _FIELDS)
    )
    rows = []
    with Session(engine) as session:
        for r in session.execute(query):
            raw = {f: getattr(r, f) for f in _FIELDS}
            rel = {f: None if v is None else _relative(v, root, real_root) for f, v in raw.items()}
            outside = any(raw[f] is not None and rel[f] is None for f in _FIELDS)
            # Several hosts may share one database: never judge another host's files.
            ours = host is None or r.host is None or r.host == host
            rows.append(_Row(r.id, r.started_at, r.status, ours and not outside, raw, rel))
    return rows


class _Pass:
    """The state of one enforce() pass: files on disk, and the row changes to commit."""

    def __init__(self, root: Path, files: dict[Path, _File]) -> None:
        self.root = root
        self.files = files
        self.by_id: dict[str, set[Path]] = {}
        for rel in files:
            if (media := _media(rel.name)) is not None:
                self.by_id.setdefault(media[0], set()).add(rel)
        self.report = RetentionReport()
        self.deletes: list[str] = []
        self.updates: dict[str, dict[str, str | None]] = {}
        self.first_error: str | None = None

    def unlink(self, rels: Iterable[Path]) -> set[Path]:
        """Remove files; return those now gone (a missing file counts as gone)."""
        gone = set()
        for rel in rels:
            try:
                (self.root / rel).unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                self.report.failed_files += 1
                self.first_error = self.first_error or f"{self.root / rel}: {exc.strerror}"
                continue
            else:
                self.report.files_removed += 1
                self.report.bytes_freed += self.files[rel].size if rel in self.files else 0
            gone.add(rel)
            self.files.pop(rel, None)
            if (media := _media(rel.name)) is not None:
                self.by_id.get(media[0], set()).discard(rel)
        return gone

    def remove_event(self, row: _Row, reason: str) -> None:
        """Remove an event's files, then (if they all went) its row."""
        rels = {r for r in row.rel.values() if r is not None} | self.by_id.get(row.id, set())
        gone = self.unlink(sorted(rels))
        if gone == rels:
            self.deletes.append(row.id)
            self.report.removed[reason] = self.report.removed.get(reason, 0) + 1
            self.report.removed_ids.append(row.id)
            return
        # Some file stuck (read-only, permissions): keep the row, minus the paths now gone.
        cleared = {f: None for f in _FIELDS if row.rel[f] is not None and row.rel[f] in gone}
        if cleared:
            self.updates.setdefault(row.id, {}).update(cleared)

    def event_bytes(self, row: _Row) -> int:
        """What removing an event's files would free (the files on disk now)."""
        rels = {r for r in row.rel.values() if r is not None} | self.by_id.get(row.id, set())
        return sum(self.files[r].size for r in rels if r in self.files)

    def exists(self, rel: Path) -> bool:
        """Whether a file is on disk (the scan, else a stat: it may have come since)."""
        return rel in self.files or (self.root / rel).exists()

    def repair(self, row: _Row) -> None:
        """Make a closed row and its files agree: clear vanished paths, settle unnamed files."""
        changes: dict[str, str | None] = {}
        for f in _FIELDS:
            rel = row.rel[f]
            if rel is not None and not self.exists(rel):
                changes[f] = None
        stray = []
        for rel in sorted(self.by_id.get(row.id, set()) - set(row.rel.values())):
            media = _media(rel.name)
            if media is None or media[1] == SIGHTING_CROP:
                continue  # sighting crops are settled by the orphan sweep
            # A lost update (crash, dropped write) leaves a good file unnamed: adopt it.
            # But a clip missing from a cleanly closed row was left out on purpose
            # (no frame written): that one is junk.
            adopt = media[1] != "clip_path" or row.status == EVENT_INTERRUPTED
            if adopt and row.raw[media[1]] is None:
                changes[media[1]] = str(self.root / rel)
            else:
                stray.append(rel)
        self.report.orphan_files += len(self.unlink(stray))
        if changes:
            self.updates.setdefault(row.id, {}).update(changes)
            self.report.repaired_rows += 1

    def commit(self, engine: Engine) -> None:
        """Apply the row deletions and updates in one transaction."""
        if not self.deletes and not self.updates:
            return
        seen: set[int] = set()
        with Session(engine) as session, session.begin():
            for i in range(0, len(self.deletes), _BATCH):
                batch = self.deletes[i : i + _BATCH]
                # An open event is never removed, even if it were reopened meanwhile.
                ids = select(Event.id).where(Event.id.in_(batch), Event.status != EVENT_OPEN)
                # Unknown identities these events saw: recounted once the events are gone.
                seen.update(
                    session.scalars(
                        select(EventIdentity.identity_id).where(EventIdentity.event_id.in_(ids))
                    )
                )
                # Sightings explicitly: ON DELETE CASCADE is not enforced everywhere.
                session.execute(delete(Sighting).where(Sighting.event_id.in_(ids)))
                session.execute(delete(EventIdentity).where(EventIdentity.event_id.in_(ids)))
                session.execute(
                    delete(Event).where(Event.id.in_(batch), Event.status != EVENT_OPEN)
                )
            for event_id, values in self.updates.items():
                if event_id not in self.deletes:
                    session.execute(
                        update(Event)
                        .where(Event.id == event_id, Event.status != EVENT_OPEN)
                        .values(**values)
                    )
            # Their counts and representative crops must not name what just went.
            refresh_identities(session, seen)


def _prune_dirs(root: Path, dirs: list[Path], today: date) -> None:
    """Remove empty day folders of past days (today's may be about to get a clip)."""
    for rel in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        try:
            day = datetime.strptime(rel.name, DAY_DIR_FORMAT).date()
        except ValueError:
            continue
        if day < today:
            with contextlib.suppress(OSError):  # not empty, or already gone
                (root / rel).rmdir()


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
    rows = _load_rows(engine, root, real_root, host)
    crops = _load_crops(engine, root, real_root)
    files, dirs = _scan(root)
    state = _Pass(root, files)
    report = state.report
    free = int(disk_usage(root).free)
    # Only watcher's own media count toward max_disk_gb: a backup, the database or
    # anything else in the folder is not ours to make room for.
    total = sum(f.size for rel, f in files.items() if _media(rel.name) is not None)

    active = {r for p in active_clips if (r := _relative(p, root, real_root)) is not None}
    active_ids = {m[0] for r in active if (m := _media(r.name)) is not None}
    referenced = {r for row in rows for r in row.rel.values() if r is not None}
    known_ids = {row.id for row in rows}

    def untouchable(row: _Row) -> bool:
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
            state.repair(row)
            candidates.append(row)

    too_old = None if max_age_days is None else now - timedelta(days=max_age_days)
    cutoff_ts = now.timestamp() - orphan_grace_s
    for rel, meta in list(files.items()):
        media = _media(rel.name)
        if media is None or rel in referenced or rel in crops:
            continue
        # An event's own files are settled with its row (repair); its sighting crops here.
        if media[0] in known_ids and media[1] != SIGHTING_CROP:
            continue
        if rel in active or media[0] in active_ids or meta.mtime > cutoff_ts:
            continue
        if media[1] == "clip_path" and (too_old is None or meta.mtime > too_old.timestamp()):
            # A clip whose row was lost (the database was down) is still a recording:
            # kept until it is as old as retention allows, and counted.
            report.unlisted_clips += 1
            continue
        if state.unlink([rel]):
            report.orphan_files += 1

    max_bytes = None if max_disk_gb is None else int(max_disk_gb * GB)
    min_free = None if min_free_gb is None else int(min_free_gb * GB)
    candidates.sort(key=lambda r: (r.started_at, r.id))
    # What removing every candidate could free at most: a limit beyond it is not chased.
    removable = sum(state.event_bytes(row) for row in candidates)
    used_now = total - report.bytes_freed
    free_now = free + report.bytes_freed
    if max_bytes is not None and used_now - removable > max_bytes:
        report.unmeetable[SIZE_LIMIT] = (
            f"watcher's recordings are {_gb(used_now)}, over max_disk_gb {_gb(max_bytes)}, "
            f"and {_gb(used_now - removable)} of them must stay (clips being written, open "
            "events, clips the database does not list): no event removed for size"
        )
        max_bytes = None
    free_target = min_free
    if min_free is not None and free_now + removable < min_free:
        # Something else fills the disk: removing every event would not make the room,
        # and each new event would go at the next pass. Keep them all, and say so.
        report.unmeetable[FREE_LIMIT] = (
            f"{_gb(free_now)} free on the recordings disk, under min_free_gb {_gb(min_free)}, "
            f"and removing all of watcher's recordings ({_gb(removable)}) would not make up "
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
    _prune_dirs(root, dirs, now.astimezone().date())
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
