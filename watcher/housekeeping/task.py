"""The housekeeping thread: retention (with the orphan sweep) and privacy expiry.

One round at start, in the caller's thread (before any camera records: make
room first); then the thread runs a round every interval, and a retention pass
at once on wake() (a disk-full error). The daemon watches the thread like every
other: it beats while idle and between the passes of a round.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path

from sqlalchemy import Engine

from watcher.housekeeping.privacy import ExpiryReport, expiry_pass
from watcher.housekeeping.report import RetentionLimits, RetentionReport
from watcher.housekeeping.retention import DEFAULT_INTERVAL_S, enforce
from watcher.log import FaultLog
from watcher.worker import IDLE_BEAT_S, Beat, no_beat

log = logging.getLogger("watcher.retention")


class HousekeepingTask:
    """Runs the housekeeping passes on its own thread; never raises."""

    def __init__(
        self,
        engine: Engine,
        recordings_dir: Path,
        limits: RetentionLimits,
        active_clips: Callable[[], Collection[Path]],
        *,
        host: str | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        unknown_faces_days: float | None = None,
    ) -> None:
        self.engine = engine
        self.recordings_dir = recordings_dir
        self.limits = limits
        self.active_clips = active_clips
        self.host = host
        self.interval_s = interval_s
        self.unknown_faces_days = unknown_faces_days  # None: no privacy expiry
        self._lock = threading.Lock()  # one pass at a time, whoever asks
        # Limits passed and already warned about: a limit that stays passed (a disk
        # someone else fills) is one warning, not one every interval.
        self._warned: set[str] = set()
        # A database or disk fault is one line; a bug its traceback, once in a row.
        self._faults = FaultLog(log)
        self._privacy_faults = FaultLog(logging.getLogger("watcher.store"))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.thread_name = "watcher.retention"
        self.beat: Beat = no_beat  # the daemon's liveness, once it watches this thread
        self._thread: threading.Thread | None = None

    def run_once(self) -> RetentionReport | None:
        """One retention pass now, in the caller's thread; None (and one log line) if it failed."""
        with self._lock:
            try:
                report = enforce(
                    self.engine,
                    self.recordings_dir,
                    max_age_days=self.limits.max_age_days,
                    max_disk_gb=self.limits.max_disk_gb,
                    min_free_gb=self.limits.min_free_gb,
                    active_clips=set(self.active_clips()),
                    host=self.host,
                    warned=self._warned,
                )
            except Exception as exc:  # retention must never take the daemon down
                self._faults.failed(exc, "retention: pass failed")
                return None
            self._faults.recovered()
            return report

    def expire_once(self) -> ExpiryReport | None:
        """One privacy-expiry pass now, in the caller's thread; None if off or it failed."""
        if self.unknown_faces_days is None:
            return None
        with self._lock:
            return expiry_pass(
                self.engine,
                self.recordings_dir,
                self.unknown_faces_days,
                host=self.host,
                faults=self._privacy_faults,
            )

    def run_round(self) -> None:
        """Every pass once, in the caller's thread: retention first, then privacy expiry."""
        self.run_once()
        self.beat(self.thread_name)
        self.expire_once()
        self.beat(self.thread_name)

    def start(self) -> None:
        """Start the thread; its first round comes after one interval (or a wake())."""
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask for a retention pass now (e.g. after a disk-full error)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """End the thread (a pass in progress finishes first); True if it ended in `timeout`."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        due = time.monotonic() + self.interval_s
        while True:
            woken = self._wake.wait(min(IDLE_BEAT_S, max(0.0, due - time.monotonic())))
            self.beat(self.thread_name)  # idle is progress
            if self._stop.is_set():
                return
            if not woken and time.monotonic() < due:
                continue
            self._wake.clear()
            if time.monotonic() < due:  # woken early: room is wanted, not a whole round
                self.run_once()
                self.beat(self.thread_name)
                continue
            self.run_round()
            due = time.monotonic() + self.interval_s
