"""Unknown identities for people: list them, name one (promotion), expire old personal data."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy import CursorResult, Engine, Result, delete, func, or_, select, update
from sqlalchemy.orm import Session

from watcher.store.grouping import lock_identities, refresh_identities
from watcher.store.models import Event, EventIdentity, Sighting, UnknownIdentity

if TYPE_CHECKING:  # dlib is loaded only by the commands that embed faces
    from watcher.core import FaceEngine
    from watcher.faces.manage import AddResult

log = logging.getLogger("watcher.store")

DEFAULT_MAX_PHOTOS: Final = 3
_BATCH: Final = 500  # stays under SQLite's bound-parameter limit
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """One unknown identity, as plain data."""

    label: str
    events: int
    sightings: int
    first_seen: datetime
    last_seen: datetime
    crop_path: str | None  # the crop of its largest face
    named_as: str | None
    host: str | None
    event_ids: tuple[str, ...]  # newest first

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 with zone)."""
        return {
            "label": self.label,
            "events": self.events,
            "sightings": self.sightings,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "crop": self.crop_path,
            "named_as": self.named_as,
            "host": self.host,
            "event_ids": list(self.event_ids),
        }


@dataclass(frozen=True, slots=True)
class PromotionResult:
    """What `promote` did: photos added to the gallery and rows relabelled."""

    label: str
    name: str
    photos: tuple[Path, ...]  # copied into known_faces/<name>/
    refused: tuple[tuple[Path, str], ...]  # crops tried and not usable, with why
    sightings: int  # relabelled with the name
    events: int  # events that saw this identity (they keep their clips)


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


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched."""
    return result.rowcount if isinstance(result, CursorResult) else 0


def _batches(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for i in range(0, len(items), _BATCH):
        yield items[i : i + _BATCH]


def list_unknown(engine: Engine) -> list[IdentityRecord]:
    """Every unknown identity (named ones too), most recently seen first."""
    with Session(engine) as session:
        links: dict[int, list[str]] = {}
        query = (
            select(EventIdentity.identity_id, EventIdentity.event_id)
            .join(Event, Event.id == EventIdentity.event_id)
            .order_by(Event.started_at.desc(), Event.id.desc())
        )
        for identity_id, event_id in session.execute(query):
            links.setdefault(identity_id, []).append(event_id)
        rows = session.scalars(
            select(UnknownIdentity).order_by(
                UnknownIdentity.last_seen.desc(), UnknownIdentity.id.desc()
            )
        )
        return [
            IdentityRecord(
                label=row.label,
                events=row.events,
                sightings=row.sightings,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                crop_path=row.crop_path,
                named_as=row.named_as,
                host=row.host,
                event_ids=tuple(links.get(row.id, ())),
            )
            for row in rows
        ]


def _crops(session: Session, identity_id: int) -> list[Path]:
    """The identity's crops on disk, best first: each event's largest face, then the rest."""
    height = (Sighting.bottom - Sighting.top).label("px")
    rows = session.execute(
        select(Sighting.crop_path, Sighting.event_id, height)
        .where(Sighting.identity_id == identity_id, Sighting.crop_path.is_not(None))
        .order_by(height.desc(), Sighting.id)
    ).all()
    # Largest per event first: several events give views that differ more than frames do.
    firsts: list[str | None] = []
    rest: list[str | None] = []
    events: set[str] = set()
    for crop, event_id, _ in rows:
        (rest if event_id in events else firsts).append(crop)
        events.add(event_id)
    ordered = dict.fromkeys(firsts + rest)  # one path once, order kept
    return [Path(p) for p in ordered if p is not None and Path(p).is_file()]


def promote(
    engine: Engine,
    label: str,
    name: str,
    known_faces_dir: Path,
    *,
    face_engine: FaceEngine,
    max_photos: int = DEFAULT_MAX_PHOTOS,
) -> PromotionResult:
    """Make an unknown identity a known person: its best crops join known_faces/<name>/.

    Each crop must still show exactly one usable face (faces.manage.add_images
    checks and copies). Then its sightings are relabelled with the name and the
    identity is marked `named_as`; its events keep their clips. A running daemon
    picks the new photos up by its gallery hot reload. GalleryError (one line)
    when the label does not exist, the name is invalid, or no crop is usable.
    """
    from watcher.faces.manage import GalleryError, add_images, validate_name

    validate_name(name)
    if max_photos < 1:
        raise GalleryError(f"max_photos must be at least 1, got {max_photos}")
    with Session(engine) as session:
        row = session.scalar(select(UnknownIdentity).where(UnknownIdentity.label == label))
        if row is None:
            raise GalleryError(f"no unknown identity {label!r} (see `watcher faces unknown`)")
        if row.named_as is not None:
            raise GalleryError(f"{label} was already named {row.named_as!r}")
        identity_id = row.id
        candidates = _crops(session, identity_id)
    if not candidates:
        raise GalleryError(f"{label} has no face crop left on disk to learn from")
    # Photos first, rows second: a row claiming a person the gallery lacks would mislead.
    added: list[AddResult] = []
    refused: list[tuple[Path, str]] = []
    for crop in candidates:
        if len(added) >= max_photos:
            break
        for result in add_images(face_engine, known_faces_dir, name, [crop]):
            if result.accepted:
                added.append(result)
            else:
                refused.append((crop, result.reason or "unusable"))
    if not added:
        why = "; ".join(f"{p.name}: {r}" for p, r in refused[:3])
        raise GalleryError(f"no crop of {label} is usable as a gallery photo ({why})")
    with Session(engine) as session, session.begin():
        lock_identities(session)
        sightings = _rowcount(
            session.execute(
                update(Sighting).where(Sighting.identity_id == identity_id).values(name=name)
            )
        )
        session.execute(
            update(UnknownIdentity).where(UnknownIdentity.id == identity_id).values(named_as=name)
        )
        events = session.scalar(
            select(func.count())
            .select_from(EventIdentity)
            .where(EventIdentity.identity_id == identity_id)
        )
    photos = tuple(r.dest for r in added if r.dest is not None)
    log.debug("store: %s named %s: %d photo(s) added", label, name, len(photos))
    return PromotionResult(label, name, photos, tuple(refused), sightings, events or 0)


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
    query = (
        select(Sighting.id, Sighting.crop_path, Sighting.identity_id, Event.host)
        .join(Event, Event.id == Sighting.event_id)
        .where(
            Sighting.at < cutoff,
            or_(Sighting.embedding.is_not(None), Sighting.crop_path.is_not(None)),
        )
    )
    with Session(engine) as session:
        old = session.execute(query).all()
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
    stale = select(UnknownIdentity.id).where(UnknownIdentity.last_seen < cutoff)
    with Session(engine) as session, session.begin():
        lock_identities(session)
        for batch in _batches(ids):
            done = session.execute(
                update(Sighting)
                .where(Sighting.id.in_(batch), Sighting.embedding.is_not(None))
                .values(embedding=None)
            )
            report.embeddings += _rowcount(done)
        for batch in _batches(cleared):
            session.execute(update(Sighting).where(Sighting.id.in_(batch)).values(crop_path=None))
        # Explicitly, not by ON DELETE: foreign keys are not enforced on every connection.
        session.execute(
            update(Sighting).where(Sighting.identity_id.in_(stale)).values(identity_id=None)
        )
        session.execute(delete(EventIdentity).where(EventIdentity.identity_id.in_(stale)))
        gone = session.execute(delete(UnknownIdentity).where(UnknownIdentity.last_seen < cutoff))
        report.identities = _rowcount(gone)
        refresh_identities(session, touched)
    return report


def expiry_pass(
    engine: Engine,
    recordings_dir: Path,
    older_than_days: float,
    *,
    host: str | None = None,
) -> ExpiryReport | None:
    """One expiry pass for the daemon's housekeeping: logs one line, never raises (None)."""
    try:
        report = expire_unknown(engine, recordings_dir, older_than_days, host=host)
    except Exception as exc:  # housekeeping must never take the daemon down
        log.error("privacy: expiry failed: %s: %s", type(exc).__name__, exc)
        return None
    if report.failed_files:
        log.warning("privacy: %s", report.summary())
    elif report.embeddings or report.crops or report.identities:
        log.info("privacy: %s", report.summary())
    else:
        log.debug("privacy: %s", report.summary())
    return report
