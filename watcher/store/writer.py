"""The one database writer: a queue consumed by a single thread, so cameras never wait."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, insert
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from watcher.constants import EVENT_CLOSED, EVENT_INTERRUPTED, EVENT_NO_CLIP, EVENT_OPEN
from watcher.log import FaultLog, one_line
from watcher.store.blobs import EMBEDDING_BYTES, from_blob
from watcher.store.db import init_db, sqlite_file
from watcher.store.grouping import DEFAULT_GROUP_DISTANCE, Grouper
from watcher.store.models import DECISION_LEN, NOTE_LEN, Event, Sighting, UnknownIdentity
from watcher.store.outbox import (
    UPDATE_FIELDS,
    Targets,
    add_messages,
    add_presence,
    event_document,
)
from watcher.worker import IDLE_BEAT_S, Beat, no_beat

log = logging.getLogger("watcher.store")

THREAD_NAME: Final = "watcher.store.writer"
# Fields the pipeline may set after the start row is written.
UPDATABLE_FIELDS: Final = frozenset(
    {
        "clip_path",
        "clip_started_at",
        "snapshot_path",
        "face_path",
        "faces",
        "closest_distance",
        "decision",
    }
)
CLOSING_STATUSES: Final = frozenset({EVENT_CLOSED, EVENT_INTERRUPTED, EVENT_NO_CLIP})
# Before each commit, and this often while idle, the writer makes sure its SQLite file
# is still the one it opened (one stat): a database deleted or replaced under a running
# daemon would otherwise take every later row into an unlinked file, lost for good.
FILE_CHECK_S: Final = 2.0
_RELEASE_WAIT_S: Final = 5.0  # for other threads' reads to end before reconnecting


def _require_aware(name: str, value: datetime) -> None:
    """Refuse naive datetimes in the caller's thread, where the bug is."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class SightingData:
    """A face seen in a frame, to be stored with its event."""

    at: datetime
    offset_s: float
    box: tuple[int, int, int, int]  # top, right, bottom, left (face_recognition order)
    name: str | None = None  # best known match; None = unknown
    distance: float | None = None  # to the nearest gallery face; None = empty gallery
    # A fresh embedding of an unknown face (grouping.to_blob: 128 float32, little-endian);
    # stored and grouped into an unknown identity only when `name` is None.
    embedding: bytes | None = None
    crop_path: str | None = None  # the face crop written for this sighting, if any
    note: str | None = None  # the verdict this look led to, or why it did not count

    def __post_init__(self) -> None:
        _require_aware("SightingData.at", self.at)
        if len(self.box) != 4:
            raise ValueError(f"box must be (top, right, bottom, left), got {self.box!r}")
        if self.embedding is not None and len(self.embedding) != EMBEDDING_BYTES:
            raise ValueError(
                f"embedding must be {EMBEDDING_BYTES} bytes (grouping.to_blob), "
                f"got {len(self.embedding)}"
            )

    @property
    def groups(self) -> bool:
        """Whether this sighting joins an unknown identity: unknown, with an embedding."""
        return self.name is None and self.embedding is not None


class MissingEventError(LookupError):
    """A write targeted an event id that has no row."""


@dataclass(slots=True)
class _Write:
    """A queued write: `apply` runs inside a transaction of the writer thread."""

    what: str
    event_id: str
    apply: Callable[[Session], None]
    row: dict[str, Any] | None = None  # an open_event's row, kept while the event is open


@dataclass(slots=True)
class _Barrier:
    """Set by the writer thread once everything queued before it is committed."""

    done: threading.Event = field(default_factory=threading.Event)


_STOP: Final = object()


_VITAL_WRITES = frozenset({"open_event", "close_event"})
_VITAL_ATTEMPTS = 20  # with the backoff capped at 5 s: about a minute and a half
_MAX_BACKOFF_S = 5.0


def _retriable(exc: BaseException) -> bool:
    """Tell whether trying again may help (locked, disk full, lost connection)."""
    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _get_event(session: Session, event_id: str) -> Event:
    row = session.get(Event, event_id)
    if row is None:
        raise MissingEventError(f"no event {event_id!r}")
    return row


class StoreWriter:
    """Owns every database write; public methods only queue and never block."""

    def __init__(
        self,
        engine: Engine,
        *,
        retries: int = 3,
        backoff_s: float = 0.2,
        max_queue: int = 10_000,
        group_distance: float = DEFAULT_GROUP_DISTANCE,
        file_check_s: float = FILE_CHECK_S,
    ) -> None:
        if group_distance <= 0:
            raise ValueError(f"group_distance must be positive, got {group_distance}")
        self._engine = engine
        self._sessions = sessionmaker(engine)
        # The SQLite file and its identity (st_dev, st_ino) when opened; None: not a file.
        self._db_file = sqlite_file(engine)
        self._db_id = _identity(self._db_file)
        self._file_check_s = file_check_s
        self._next_check = time.monotonic() + file_check_s
        self._file_lost = False  # said once; set while it cannot be made again
        # Start rows of events not yet closed: written again into a recreated database,
        # so their updates and end still have a row to land in.
        self._open_rows: dict[str, dict[str, Any]] = {}
        self._group_distance = group_distance
        self._retries = retries
        self._backoff_s = backoff_s
        # Bounded so a dead database cannot eat all memory; full means writes are dropped.
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._dropping = False
        self._lock = threading.Lock()
        self.thread_name = THREAD_NAME
        self.beat: Beat = no_beat  # the daemon's liveness, once it watches this thread
        # A row that is gone (its event lost with a replaced file) is no bug of watcher's.
        self._faults = FaultLog(log, expected=(MissingEventError,))
        # Notification targets and the kinds each takes (empty: no outbox rows), and
        # what to call once rows for them are committed (the dispatcher's wake-up).
        self.notify_targets: Targets = {}
        self.on_notify: Callable[[], None] | None = None
        self._notified = False

    def start(self) -> StoreWriter:
        """Start the writer thread (writes queued before this wait for it)."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("StoreWriter already started")
            self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self._thread.start()
        return self

    # -- writes (called from any thread) ---------------------------------------------

    def open_event(
        self,
        event_id: str,
        camera: str,
        started_at: datetime,
        *,
        host: str | None = None,
        decision: str | None = None,
    ) -> None:
        """Queue the start row (status open), committed at once so a crash leaves a trace;
        `decision` says why (its `new` message says a watch-listed person's name at once)."""
        _require_aware("started_at", started_at)
        row = {
            "id": event_id,
            "camera": camera,
            "started_at": started_at,
            "status": EVENT_OPEN,
            "host": host,
            "decision": decision[:DECISION_LEN] if decision else None,
        }

        def apply(session: Session) -> None:
            event = Event(**row)
            session.add(event)
            self._message(session, "new", event, None)

        self._put(_Write("open_event", event_id, apply, row))

    def add_sightings(self, event_id: str, sightings: Sequence[SightingData]) -> None:
        """Queue sightings of an event (one insert); unknown ones with an embedding are grouped."""
        rows = [
            {
                "event_id": event_id,
                "at": s.at,
                "offset_s": s.offset_s,
                "top": s.box[0],
                "right": s.box[1],
                "bottom": s.box[2],
                "left": s.box[3],
                "name": s.name,
                "distance": s.distance,
                # A known person's embedding is not kept: only strangers are grouped.
                "embedding": s.embedding if s.groups else None,
                "crop_path": s.crop_path,
                "note": s.note[:NOTE_LEN] if s.note else None,
                "identity_id": None,
            }
            for s in sightings
        ]
        if not rows:
            return
        grouped = [i for i, s in enumerate(sightings) if s.groups]

        def apply(session: Session) -> None:
            if grouped:
                self._group(session, event_id, [rows[i] for i in grouped])
            session.execute(insert(Sighting), rows)

        self._put(_Write("add_sightings", event_id, apply))

    def update_event(self, event_id: str, **fields: Any) -> None:
        """Queue new values for any of UPDATABLE_FIELDS (clip_path, clip_started_at, ...)."""
        self._check_fields(fields)
        if fields.get("decision"):
            fields["decision"] = fields["decision"][:DECISION_LEN]
        if not fields:
            return

        reported = bool(UPDATE_FIELDS & fields.keys())

        def apply(session: Session) -> None:
            row = _get_event(session, event_id)
            before = self._before(session, row) if reported else None
            for name, value in fields.items():
                setattr(row, name, value)
            if reported:
                self._message(session, "update", row, before)

        self._put(_Write("update_event", event_id, apply))

    def close_event(
        self, event_id: str, ended_at: datetime, status: str = EVENT_CLOSED, **fields: Any
    ) -> None:
        """Queue the end of an event: its end time, final status and any last fields."""
        _require_aware("ended_at", ended_at)
        if status not in CLOSING_STATUSES:
            raise ValueError(f"cannot close an event with status {status!r}")
        self._check_fields(fields)

        def apply(session: Session) -> None:
            row = _get_event(session, event_id)
            before = self._before(session, row)
            row.ended_at = ended_at
            row.status = status
            for name, value in fields.items():
                setattr(row, name, value)
            self._message(session, "end", row, before)

        self._put(_Write("close_event", event_id, apply))

    def person_seen(self, person: str, camera: str, at: datetime) -> None:
        """Queue a presence message (a known person seen, no event); nothing when nobody is told."""
        _require_aware("at", at)
        if not self.notify_targets:
            return

        def apply(session: Session) -> None:
            if add_presence(session, self.notify_targets, person, camera, at):
                self._notified = True

        self._put(_Write("person_seen", person, apply))

    # -- synchronisation -------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (or given up); False on timeout."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return self._queue.empty()  # nobody will write it: done only if nothing waits
        deadline = time.monotonic() + timeout
        barrier = _Barrier()
        try:
            self._queue.put(barrier, timeout=max(0.0, timeout))
        except queue.Full:
            return False
        return barrier.done.wait(max(0.0, deadline - time.monotonic()))

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush, then end the thread; True if it ended within `timeout`."""
        thread = self._thread
        if thread is None:
            self._closed = True
            return True
        deadline = time.monotonic() + timeout
        self.flush(timeout)
        self._closed = True
        # If the queue stays full the thread is still busy; being a daemon, it dies with us.
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning("store: writer still busy after %.1fs, leaving it behind", timeout)
            return False
        return True

    # -- internals -------------------------------------------------------------------

    def _group(self, session: Session, event_id: str, rows: list[dict[str, Any]]) -> None:
        """Give each row its unknown identity (same transaction as the insert) and link them."""
        event = _get_event(session, event_id)  # also: no identity for an event that is not there
        grouper = Grouper(session, self._group_distance, event.host)
        seen: list[UnknownIdentity] = []
        for row in rows:
            identity = grouper.assign(
                from_blob(row["embedding"]), row["at"], row["bottom"] - row["top"], row["crop_path"]
            )
            row["identity_id"] = identity.id
            # Named by `faces name` but the daemon's gallery not reloaded yet: it is that person.
            row["name"] = identity.named_as
            seen.append(identity)
        grouper.link(event_id, seen)

    def _before(self, session: Session, event: Event) -> dict[str, Any] | None:
        """The event as a message's `before` (only worth reading when someone is told)."""
        return event_document(session, event) if self.notify_targets else None

    def _message(
        self, session: Session, kind: str, event: Event, before: dict[str, Any] | None
    ) -> None:
        """Add the outbox rows of this change, in its transaction."""
        if self.notify_targets and add_messages(session, self.notify_targets, kind, event, before):
            self._notified = True

    @staticmethod
    def _check_fields(fields: dict[str, Any]) -> None:
        unknown = set(fields) - UPDATABLE_FIELDS
        if unknown:
            raise TypeError(f"unknown event field(s): {', '.join(sorted(unknown))}")
        if fields.get("clip_started_at") is not None:
            _require_aware("clip_started_at", fields["clip_started_at"])

    def _put(self, message: _Write) -> None:
        """Queue without ever blocking the caller; drop (and say so) when it cannot."""
        if self._closed:
            log.warning("store: writer stopped, %s for %s dropped", message.what, message.event_id)
            return
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            if not self._dropping:  # one line per overflow, not one per write
                log.error("store: write queue full, dropping writes (database too slow or down)")
            self._dropping = True
            return
        self._dropping = False

    def _run(self) -> None:
        while True:
            try:
                message = self._queue.get(timeout=IDLE_BEAT_S)
            except queue.Empty:
                self.beat(self.thread_name)  # idle is progress
                self._check_file()
                continue
            self.beat(self.thread_name)
            try:
                if message is _STOP:
                    return
                if isinstance(message, _Barrier):
                    message.done.set()
                elif isinstance(message, _Write):
                    self._write(message)
            finally:
                self._queue.task_done()

    def _write(self, message: _Write) -> None:
        """Commit one write, retrying transient failures; never raise."""
        # An event's birth and end are never given up lightly: without its row,
        # its clip would be an orphan. Other writes get the usual few tries.
        vital = message.what in _VITAL_WRITES
        attempts = _VITAL_ATTEMPTS if vital else self._retries + 1
        for attempt in range(1, attempts + 1):
            self._check_file(force=True)  # a stat per commit: no row goes to a lost file
            self._notified = False
            try:
                with self._sessions.begin() as session:
                    message.apply(session)
                self._track(message)
                if self._notified and self.on_notify is not None:
                    self.on_notify()
                return
            except Exception as exc:
                if not _retriable(exc) or attempt == attempts:
                    if message.what == "close_event":
                        self._open_rows.pop(message.event_id, None)
                    # A database or disk fault is one line; a bug its traceback, once.
                    self._faults.failed(
                        exc, "store: %s for %s failed, dropped", message.what, message.event_id
                    )
                    return
                delay = min(self._backoff_s * 2 ** (attempt - 1), _MAX_BACKOFF_S)
                log.warning(
                    "store: %s for %s failed (attempt %d/%d, retry in %.2fs): %s",
                    message.what,
                    message.event_id,
                    attempt,
                    attempts,
                    delay,
                    one_line(exc),
                )
                self.beat(self.thread_name)  # retrying is progress; hanging in a call is not
                time.sleep(delay)

    def _track(self, message: _Write) -> None:
        """Keep the start rows of open events (see _open_rows)."""
        if message.row is not None:
            self._open_rows[message.event_id] = message.row
        elif message.what == "close_event":
            self._open_rows.pop(message.event_id, None)

    def _check_file(self, *, force: bool = False) -> None:
        """Every FILE_CHECK_S (or when forced): if the SQLite file was deleted or replaced
        since it was opened, say so once, then create and migrate it again."""
        if self._db_file is None:
            return
        now = time.monotonic()
        if not force and now < self._next_check:
            return
        self._next_check = now + self._file_check_s
        current = _identity(self._db_file)
        if self._db_id is None:  # not there yet when the writer was made
            self._db_id = current
            return
        if current == self._db_id:
            return
        if not self._file_lost:
            log.warning(
                "store: database %s was %s while watcher ran; creating it again "
                "(rows written before are in the lost file)",
                self._db_file,
                "deleted" if current is None else "replaced",
            )
        try:
            self._reopen(deleted=current is None)
        except Exception as exc:
            if not self._file_lost:
                self._faults.failed(exc, "store: cannot create %s again", self._db_file)
            self._file_lost = True
            return
        self._file_lost = False
        log.info(
            "store: database %s created again; %d open event(s) carried over",
            self._db_file,
            len(self._open_rows),
        )

    def _reopen(self, *, deleted: bool) -> None:
        """Drop every connection to the old file, then make and migrate the new one."""
        assert self._db_file is not None
        pool = self._engine.pool
        deadline = time.monotonic() + _RELEASE_WAIT_S
        checkedout = getattr(pool, "checkedout", lambda: 0)
        while checkedout() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # a retention pass or a read in progress
        self._engine.dispose()
        if deleted:
            # The deleted database's WAL and shared memory are worthless now, and a new
            # database must not share them with a connection still open on the old one.
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self._db_file}{suffix}")
        self._db_file.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        init_db(self._engine)
        self._db_id = _identity(self._db_file)
        if self._open_rows:
            with self._sessions.begin() as session:
                for row in self._open_rows.values():
                    if session.get(Event, row["id"]) is None:
                        session.add(Event(**row))


def _identity(path: Path | None) -> tuple[int, int] | None:
    """(st_dev, st_ino) of a file, None when it is not there (or no file at all)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
