"""The shape every long-lived thread of watcher shares: a name, a stop, a progress beat.

A worker calls `beat(name)` whenever it makes progress or finds nothing to do
(idle is progress); the daemon registers each worker's name with the liveness
that feeds systemd's watchdog, with the longest silence that worker may keep.
A thread stuck in one call (an NFS share that hangs, a database that stops
answering) stops beating, and systemd restarts the daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Beat = Callable[[str], None]
IDLE_BEAT_S = 1.0  # an idle worker wakes this often to say it is alive


def no_beat(_name: str) -> None:
    """The beat of a worker nobody watches (tests, one-shot commands)."""


class Worker(Protocol):
    """What the daemon needs of a long-lived thread to watch and stop it."""

    thread_name: str
    max_silence_s: float  # the longest it may go without a beat while healthy

    def request_stop(self) -> None:
        """Ask the thread to finish (returns at once)."""
        ...

    def join(self, timeout_s: float) -> bool:
        """Wait for the thread to end; False if it is still running after `timeout_s`."""
        ...
