"""Privacy expiry: strangers' embeddings and face crops go after privacy.unknown_faces_days."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, TypeVar

from sqlalchemy import Engine, delete, or_, select, update

from watcher.log import FaultLog
from watcher.store.locking import lock_identities
from watcher.store.recount import refresh_identities
from watcher.store.tables import event_identities, events, sightings, unknown_identities

log = logging.getLogger("watcher.store")

_BATCH: Final = 500  # stays under SQLite's bound-parameter limit
_T = TypeVar("_T")


@dataclass(slots=True)
class ExpiryReport:
    """What one privacy-expiry pass removed."""

    embeddings: int = 0  # sightings that lost their embedding
    crops: int = 0  # crop files removed (with their rows' paths)
    identities: int = 0  # identities not seen within the period, deleted
    failed_files: int = 0  # crop files that could not be removed (kept for the next pass)
    foreign_crops: int = 0  # crops of another host or outside recordings_dir: left alone
    first_error: str | None = field(default=None, repr=False)

    def summary(self) -> str:
        """One log line."""
        text = (
            f"{self.embeddings} embedding(s), {self.crops} crop(s) and "
            f"{self.identities} unknown identit{'y' if self.identities == 1 else 'ies'} expired"
        )
        if self.failed_files:
            text += f"; {self.failed_files} crop(s) not removed (first: {self.first_error})"
        return text


def _batches(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for i in range(0, len(items), _BATCH):
        yield items[i : i + _BATCH]


def _inside(path: str, root: Path) -> Path | None:
    """`path` as an absolute path if it is under root (through symlinks too), else None."""
    absolute = Path(os.path.abspath(Path(path).expanduser()))
    for base, candidate in ((root, absolute), (root.resolve(), absolute.resolve())):
        if candidate.is_relative_to(base):
            return absolute
    return None


def _remove_file(path: Path, report: ExpiryReport) -> bool:
    """Delete a crop file; True when it is gone (already missing counts)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return True
    except OSError as exc:
        report.failed_files += 1
        report.first_error = report.first_error or f"{path}: {exc.strerror or exc}"
        return False
    report.crops += 1
    return True


def expire_unknown(
    engine: Engine,
    recordings_dir: Path,
    older_than_days: float,
    *,
    now: datetime | None = None,
    host: str | None = None,
) -> ExpiryReport:
    """Forget unknown people's personal data older than `older_than_days`.

    Older sightings lose their embedding and their crop (file deleted, then its
    path cleared: files and rows together); identities last seen before then are
    deleted. With `host`, only crops of this host's events (or no host's) are
    deleted: other hosts sharing the database delete their own.
    """
    if older_than_days <= 0:
        raise ValueError(f"older_than_days must be positive, got {older_than_days}")
    now = datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cutoff = now - timedelta(days=older_than_days)
    root = Path(os.path.abspath(recordings_dir))
    report = ExpiryReport()
    s = sightings.c
    query = (
        select(s.id, s.crop_path, s.identity_id, events.c.host)
        .join(events, events.c.id == s.event_id)
        .where(s.at < cutoff, or_(s.embedding.is_not(None), s.crop_path.is_not(None)))
    )
    with engine.connect() as conn:
        old = conn.execute(query).all()
    cleared: list[int] = []  # sightings whose crop is gone
    touched: set[int] = set()  # identities that may have lost their representative crop
    for sighting_id, crop, identity_id, event_host in old:
        if crop is None:
            continue
        ours = host is None or event_host is None or event_host == host
        path = _inside(crop, root) if ours else None
        if path is None:
            report.foreign_crops += 1
            continue
        if _remove_file(path, report):
            cleared.append(sighting_id)
            if identity_id is not None:
                touched.add(identity_id)
    ids = [r[0] for r in old]
    stale = select(unknown_identities.c.id).where(unknown_identities.c.last_seen < cutoff)
    with engine.begin() as conn:
        lock_identities(conn)
        for batch in _batches(ids):
            done = conn.execute(
                update(sightings)
                .where(s.id.in_(batch), s.embedding.is_not(None))
                .values(embedding=None)
            )
            report.embeddings += done.rowcount
        for batch in _batches(cleared):
            conn.execute(update(sightings).where(s.id.in_(batch)).values(crop_path=None))
        # Explicitly, not by ON DELETE: foreign keys are not enforced on every connection.
        conn.execute(update(sightings).where(s.identity_id.in_(stale)).values(identity_id=None))
        conn.execute(delete(event_identities).where(event_identities.c.identity_id.in_(stale)))
        gone = conn.execute(
            delete(unknown_identities).where(unknown_identities.c.last_seen < cutoff)
        )
        report.identities = gone.rowcount
        refresh_identities(conn, touched)
    return report


def expiry_pass(
    engine: Engine,
    recordings_dir: Path,
    older_than_days: float,
    *,
    host: str | None = None,
    faults: FaultLog | None = None,
) -> ExpiryReport | None:
    """One expiry pass for the daemon's housekeeping: logs one line, never raises (None).

    A database or disk fault is one line; a bug is logged with its traceback (by
    `faults`, which keeps a fault that persists from pass to pass to one traceback).
    """
    try:
        report = expire_unknown(engine, recordings_dir, older_than_days, host=host)
    except Exception as exc:  # housekeeping must never take the daemon down
        (faults or FaultLog(log)).failed(exc, "privacy: expiry failed")
        return None
    if faults is not None:
        faults.recovered()
    if report.failed_files:
        log.warning("privacy: %s", report.summary())
    elif report.embeddings or report.crops or report.identities:
        log.info("privacy: %s", report.summary())
    else:
        log.debug("privacy: %s", report.summary())
    return report
