"""Removing events: their files first, then (if every file went) their rows, in one go.

Retention and the "delete an event" use case share it: clip, snapshot, face crop,
sighting crops and the rows (event, sightings, identity links) go together, and
the unknown identities the events saw are recounted.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, delete, select, update

from watcher.constants import EVENT_OPEN
from watcher.housekeeping.inventory import FIELDS, EventRow, FileMeta, media
from watcher.housekeeping.report import RetentionReport
from watcher.store.recount import refresh_identities
from watcher.store.tables import event_identities, events, sightings

_BATCH: Final = 500  # stays under SQLite's bound-parameter limit


class Removal:
    """Files on disk (relative to root) and the row changes to commit, for one pass."""

    def __init__(self, root: Path, files: dict[Path, FileMeta]) -> None:
        self.root = root
        self.files = files
        self.by_id: dict[str, set[Path]] = {}
        for rel in files:
            if (found := media(rel.name)) is not None:
                self.by_id.setdefault(found[0], set()).add(rel)
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
            if (found := media(rel.name)) is not None:
                self.by_id.get(found[0], set()).discard(rel)
        return gone

    def event_files(self, row: EventRow) -> set[Path]:
        """The files of an event: those its row names and those named with its id."""
        return {r for r in row.rel.values() if r is not None} | self.by_id.get(row.id, set())

    def remove_event(self, row: EventRow, reason: str) -> bool:
        """Remove an event's files, then (if they all went) its row; True if it all goes."""
        rels = self.event_files(row)
        gone = self.unlink(sorted(rels))
        if gone == rels:
            self.deletes.append(row.id)
            self.report.removed[reason] = self.report.removed.get(reason, 0) + 1
            self.report.removed_ids.append(row.id)
            return True
        # Some file stuck (read-only, permissions): keep the row, minus the paths now gone.
        cleared = {f: None for f in FIELDS if row.rel[f] is not None and row.rel[f] in gone}
        if cleared:
            self.updates.setdefault(row.id, {}).update(cleared)
        return False

    def event_bytes(self, row: EventRow) -> int:
        """What removing an event's files would free (the files on disk now)."""
        return sum(self.files[r].size for r in self.event_files(row) if r in self.files)

    def exists(self, rel: Path) -> bool:
        """Whether a file is on disk (the scan, else a stat: it may have come since)."""
        return rel in self.files or (self.root / rel).exists()

    def commit(self, engine: Engine) -> None:
        """Apply the row deletions and updates in one transaction."""
        if not self.deletes and not self.updates:
            return
        seen: set[int] = set()
        e, link = events.c, event_identities.c
        with engine.begin() as conn:
            for i in range(0, len(self.deletes), _BATCH):
                batch = self.deletes[i : i + _BATCH]
                # An open event is never removed, even if it were reopened meanwhile.
                ids = select(e.id).where(e.id.in_(batch), e.status != EVENT_OPEN)
                # Unknown identities these events saw: recounted once the events are gone.
                seen.update(conn.scalars(select(link.identity_id).where(link.event_id.in_(ids))))
                # Sightings explicitly: ON DELETE CASCADE is not enforced everywhere.
                conn.execute(delete(sightings).where(sightings.c.event_id.in_(ids)))
                conn.execute(delete(event_identities).where(link.event_id.in_(ids)))
                conn.execute(delete(events).where(e.id.in_(batch), e.status != EVENT_OPEN))
            for event_id, values in self.updates.items():
                if event_id not in self.deletes:
                    conn.execute(
                        update(events)
                        .where(e.id == event_id, e.status != EVENT_OPEN)
                        .values(**values)
                    )
            # Their counts and representative crops must not name what just went.
            refresh_identities(conn, seen)
