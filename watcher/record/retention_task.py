"""The retention thread: one enforce() pass at start, then every interval and on demand."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path

from sqlalchemy import Engine

from watcher.record.retention import (
    DEFAULT_INTERVAL_S,
    RetentionLimits,
    RetentionReport,
    enforce,
)
from watcher.worker import IDLE_BEAT_S, Beat, no_beat

log = logging.getLogger("watcher.retention")


class RetentionTask:
    """Runs enforce() on its own thread every interval (and at once on wake()); never raises."""

    def __init__(
        self,
        engine: Engine,
        recordings_dir: Path,
        limits: RetentionLimits,
        active_clips: Callable[[], Collection[Path]],
        *,
        host: str | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self.engine = engine
        self.recordings_dir = recordings_dir
        self.limits = limits
        self.active_clips = active_clips
        self.host = host
        self.interval_s = interval_s
        self._lock = threading.Lock()  # one pass at a time, whoever asks
        # Limits passed and already warned about: a limit that stays passed (a disk
        # someone else fills) is one warning, not one every interval.
        self._warned: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.thread_name = "watcher.retention"
        self.beat: Beat = no_beat  # the daemon's liveness, once it watches this thread
        self._thread: threading.Thread | None = None

    def run_once(self) -> RetentionReport | None:
        """One pass now, in the caller's thread; None (and one log line) if it failed."""
        with self._lock:
            try:
                return enforce(
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
                log.error("retention: pass failed: %s: %s", type(exc).__name__, exc)
                return None

    def start(self) -> None:
        """Start the thread; its first pass comes after one interval (or a wake())."""
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask for a pass now (e.g. after a disk-full error)."""
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
            self.run_once()
            self.beat(self.thread_name)
            due = time.monotonic() + self.interval_s
