"""Liveness of the daemon's threads, and the systemd watchdog pings that depend on it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from watcher.service.notify import Notifier

log = logging.getLogger("watcher.service")

Clock = Callable[[], float]

# Suggested limits. A thread that is merely waiting (no frame, camera retrying)
# still beats; these only catch a thread stuck in one call for this long.
MAIN_MAX_SILENCE_S: Final = 15.0
CAPTURE_MAX_SILENCE_S: Final = 90.0  # > the 30 s reconnect backoff plus an open() timeout
ANALYSE_MAX_SILENCE_S: Final = 120.0  # one frame on a slow Pi takes seconds, never minutes
# A write retried with backoff beats between tries; one call stuck this long is a
# database server that stopped answering.
STORE_MAX_SILENCE_S: Final = 300.0
RETENTION_MAX_SILENCE_S: Final = 600.0  # one pass over years of recordings on a slow disk
# A reload embeds only new photos (0.1-0.3 s each); ten minutes is a share that hangs.
GALLERY_MAX_SILENCE_S: Final = 600.0


@dataclass(slots=True)
class _Heart:
    max_silence_s: float
    last: float


class Liveness:
    """Named heartbeats with a maximum silence each; thread-safe, on a monotonic clock."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._hearts: dict[str, _Heart] = {}
        self._lock = threading.Lock()

    def register(self, name: str, max_silence_s: float) -> None:
        """Watch `name` from now on (registering counts as a beat); re-registering resets it."""
        if max_silence_s <= 0:
            raise ValueError(f"max_silence_s must be positive, got {max_silence_s}")
        with self._lock:
            self._hearts[name] = _Heart(max_silence_s, self._clock())

    def unregister(self, name: str) -> None:
        """Stop watching `name` (a camera removed or stopped); unknown names are ignored."""
        with self._lock:
            self._hearts.pop(name, None)

    def beat(self, name: str) -> None:
        """Record that `name` is alive now; a beat for an unregistered name is ignored."""
        now = self._clock()
        with self._lock:
            heart = self._hearts.get(name)
            if heart is not None:  # a late beat after unregister() must not crash a thread
                heart.last = now

    def silence(self, name: str) -> float | None:
        """Seconds since `name` last beat, or None if it is not registered."""
        now = self._clock()
        with self._lock:
            heart = self._hearts.get(name)
            return None if heart is None else now - heart.last

    def stale(self) -> list[str]:
        """Names silent for longer than their limit, sorted; empty means all alive."""
        now = self._clock()
        with self._lock:
            return sorted(
                name for name, h in self._hearts.items() if now - h.last > h.max_silence_s
            )

    def names(self) -> list[str]:
        """Registered names, sorted."""
        with self._lock:
            return sorted(self._hearts)


class Keepalive:
    """Sends WATCHDOG=1 every watchdog interval, but only while nothing is stale."""

    def __init__(
        self, notifier: Notifier, liveness: Liveness, *, clock: Clock = time.monotonic
    ) -> None:
        self.notifier = notifier
        self.liveness = liveness
        self.interval = notifier.watchdog_interval()
        self._clock = clock
        self._next = clock()  # the first tick pings at once
        self._stale: list[str] = []

    def tick(self) -> bool:
        """Call from the main loop (at least every interval); True if a ping was sent."""
        if self.interval is None:
            return False
        stale = self.liveness.stale()
        if stale != self._stale:  # log changes only: one line per stuck thread, not per tick
            if stale:
                log.error(
                    "watchdog: %s stuck; not pinging systemd, which will restart watcher",
                    ", ".join(f"{n} (silent {self.liveness.silence(n) or 0:.0f} s)" for n in stale),
                )
            else:
                log.warning("watchdog: every thread alive again; pinging systemd")
            self._stale = stale
        now = self._clock()
        if stale or now < self._next:
            return False
        self._next = now + self.interval
        return self.notifier.watchdog()
