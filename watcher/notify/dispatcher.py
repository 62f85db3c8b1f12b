"""The dispatcher: delivers the outbox, in order, with retries, one thread per target.

Rows are written by the store's writer with the event change they report; each
target's thread (its lane) reads that target's rows in insertion order and hands
them to its channel, so an endpoint that hangs never delays another; the watched
thread (`watcher.notify`) keeps the outbox and beats only while every lane does. A delivered
row is deleted; a failed attempt is retried after a backoff that doubles (with
jitter) up to `retry_max_s`, or after what the receiver asked (Retry-After); a row
still undelivered `give_up_h` after it was written is marked failed and logged
once. While a target fails nothing later is sent to it, so each event's messages
arrive in order. Camera threads never wait on any of this.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from watcher.notify.channel import Channel, Message, Outcome
from watcher.store.tables import FAILED, NOTE_LEN, PENDING, notifications, utcnow
from watcher.worker import IDLE_BEAT_S, Beat, no_beat

log = logging.getLogger("watcher.notify")

THREAD_NAME: Final = "watcher.notify"
BATCH: Final = 200
_PRUNE_EVERY_S: Final = 600.0
_NOT_READY_POLL_S: Final = 0.25  # an MQTT client that is not connected: look again this soon


class _Lane:
    """One target's delivery thread and its wake-up."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.name = f"{THREAD_NAME}.{target}"
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.last_beat = time.monotonic()


def backoff_s(attempts: int, min_s: float, max_s: float, rng: random.Random) -> float:
    """Delay before the next attempt: doubling from min_s, capped, with 'equal jitter'."""
    ceiling = min(max_s, min_s * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Dispatcher:
    """Delivers the notifications outbox; a Worker (thread_name, beat, max_silence_s)."""

    def __init__(
        self,
        engine: Engine,
        channels: Sequence[Channel],
        *,
        give_up_h: float = 24.0,
        retry_min_s: float = 1.0,
        retry_max_s: float = 300.0,
        failed_keep_days: float = 7.0,
        max_attempt_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self._engine = engine
        self.channels = {channel.target: channel for channel in channels}
        self.give_up = timedelta(hours=give_up_h)
        self.retry_min_s = retry_min_s
        self.retry_max_s = max(retry_min_s, retry_max_s)
        self.failed_keep = timedelta(days=failed_keep_days)
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # One lane (thread) per target: an endpoint that hangs never delays the others.
        self._lanes = {target: _Lane(target) for target in self.channels}
        # target -> monotonic time before which it is not tried again (after a failure).
        self._resting: dict[str, float] = {}
        self._disabled: set[str] = set()
        self._db_down = False
        self._next_prune = 0.0
        self.thread_name = THREAD_NAME
        # A delivery attempt is bounded (the publish or HTTP timeout); beats come between.
        self.max_silence_s = max_attempt_s * 3 + 60.0
        self.beat: Beat = no_beat

    # -- Worker -------------------------------------------------------------------------

    def start(self) -> Dispatcher:
        """Start the channels (MQTT connects in the background) and the thread."""
        if self._thread is not None:
            raise RuntimeError("Dispatcher already started")
        for channel in self.channels.values():
            start = getattr(channel, "start", None)
            if start is not None:
                start()
        for lane in self._lanes.values():
            lane.thread = threading.Thread(
                target=self._run_lane, args=(lane,), name=lane.name, daemon=True
            )
            lane.thread.start()
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return self

    def set_people(self, people: list[str]) -> None:
        """Tell the channels that announce the known people (MQTT discovery) who they are now."""
        for channel in self.channels.values():
            announce = getattr(channel, "set_people", None)  # only MQTT announces people
            if announce is not None:
                announce(people)

    def wake(self) -> None:
        """Look at the outbox now (the writer committed rows); returns at once."""
        for lane in self._lanes.values():
            lane.wake.set()

    def request_stop(self) -> None:
        self._stop.set()
        self.wake()

    def join(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        threads = [self._thread, *(lane.thread for lane in self._lanes.values())]
        for thread in threads:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
                if thread.is_alive():
                    return False
        return True

    def drain(self, timeout_s: float) -> bool:
        """Wait (bounded) until nothing deliverable is pending: the last `end` messages at stop."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.wake()
            try:
                if self._deliverable() == 0:
                    return True
            except SQLAlchemyError:
                return False
            time.sleep(0.1)
        return False

    def _deliverable(self) -> int:
        """Pending rows of targets that are up and not resting after a failure."""
        now = time.monotonic()
        up = [
            target
            for target, channel in self.channels.items()
            if target not in self._disabled
            and self._resting.get(target, 0.0) <= now
            and channel.ready()
        ]
        if not up:
            return 0
        with self._engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(
                        notifications.c.status == PENDING, notifications.c.target.in_(up)
                    )
                ).scalar_one()
            )

    def stop(self, timeout_s: float = 10.0) -> bool:
        """End the thread and close the channels (undelivered rows wait for the next start)."""
        self.request_stop()
        ended = self.join(timeout_s)
        for channel in self.channels.values():
            try:
                channel.close()
            except Exception as exc:  # closing must not stop the daemon's shutdown
                log.debug("notify: closing %s: %s", channel.name, exc)
        return ended

    def _run(self) -> None:
        """The watched thread: the outbox's upkeep, and a beat only while every lane beats."""
        while not self._stop.is_set():
            now = time.monotonic()
            if all(now - lane.last_beat <= self.max_silence_s for lane in self._lanes.values()):
                self.beat(self.thread_name)  # a lane stuck in a call stops the watchdog
            self._guarded(self._upkeep)
            self._stop.wait(IDLE_BEAT_S)

    def _run_lane(self, lane: _Lane) -> None:
        """Deliver one target's messages, in order, until stopped."""
        while not self._stop.is_set():
            lane.last_beat = time.monotonic()
            wait = self._guarded(lambda: self._deliver(lane.target))
            lane.wake.wait(min(IDLE_BEAT_S, wait))
            lane.wake.clear()

    def _guarded(self, work: Callable[[], float]) -> float:
        """Run a pass; a database that fails is said once and retried."""
        try:
            wait = work()
        except SQLAlchemyError as exc:
            if not self._db_down:
                log.error("notify: outbox unreadable, retrying: %s", _one_line(exc))
            self._db_down = True
            return IDLE_BEAT_S * 5
        if self._db_down:
            log.info("notify: outbox readable again")
        self._db_down = False
        return wait

    # -- one pass -----------------------------------------------------------------------

    def run_once(self) -> float:
        """One pass of everything (upkeep, then each target in turn), in the caller's thread;
        return seconds until more is due."""
        self._upkeep()
        return min([IDLE_BEAT_S, *(self._deliver(target) for target in self.channels)])

    def _upkeep(self) -> float:
        """Give up what is too old, fail what waits for a disabled target, prune."""
        now = utcnow()
        self._give_up(now)
        self._fail_disabled()
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + _PRUNE_EVERY_S
            self._prune(now)
        return IDLE_BEAT_S

    def _deliver(self, target: str) -> float:
        """Deliver what is due to one target, oldest first, stopping at the first failure
        (so each event's messages arrive in order); return seconds until more is due."""
        channel = self.channels[target]
        if target in self._disabled:
            return IDLE_BEAT_S
        resting = self._resting.get(target, 0.0) - time.monotonic()
        if resting > 0:
            return resting
        if not channel.ready():
            return _NOT_READY_POLL_S
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(notifications)
                .where(notifications.c.target == target, notifications.c.status == PENDING)
                .order_by(notifications.c.id)
                .limit(BATCH)
            ).all()
        for row in rows:
            if self._stop.is_set():
                return IDLE_BEAT_S
            due = (row.next_attempt_at - utcnow()).total_seconds()
            if due > 0:
                return due
            message = Message(
                row.id, row.message_id, row.event_id, row.camera, row.kind, row.payload
            )
            try:
                outcome = channel.deliver(message)
            except Exception as exc:  # a channel's bug must not kill the thread
                outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
            self._record(channel, row.id, row.attempts, outcome)
            if not outcome.delivered:
                return max(0.05, self._resting.get(target, 0.0) - time.monotonic())
        return 0.0 if len(rows) == BATCH else IDLE_BEAT_S

    def _record(self, channel: Channel, row_id: int, attempts: int, outcome: Outcome) -> None:
        """Delete a delivered row; schedule the retry of a failed one; disable a gone target."""
        target = channel.target
        with self._engine.begin() as conn:
            if outcome.delivered:
                conn.execute(delete(notifications).where(notifications.c.id == row_id))
                self._resting.pop(target, None)
                return
            error = (outcome.error or "failed")[:NOTE_LEN]
            if outcome.disable:
                self._disabled.add(target)
                conn.execute(
                    update(notifications)
                    .where(notifications.c.target == target, notifications.c.status == PENDING)
                    .values(status=FAILED, last_error=error)
                )
                log.error(
                    "notify: %s answered %s: disabled until restart, its messages failed",
                    channel.name,
                    error,
                )
                return
            delay = backoff_s(attempts + 1, self.retry_min_s, self.retry_max_s, self._rng)
            if outcome.retry_after_s is not None:
                delay = max(delay, outcome.retry_after_s)
            conn.execute(
                update(notifications)
                .where(notifications.c.id == row_id)
                .values(
                    attempts=attempts + 1,
                    last_error=error,
                    next_attempt_at=utcnow() + timedelta(seconds=delay),
                )
            )
        self._resting[target] = time.monotonic() + delay
        if attempts == 0:
            log.warning("notify: %s: %s; retrying in %.1f s", channel.name, error, delay)
        else:
            log.debug("notify: %s: %s (attempt %d)", channel.name, error, attempts + 1)

    def _fail_disabled(self) -> None:
        """Messages written since their target answered 410 fail at once (said once already)."""
        if not self._disabled:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(notifications)
                .where(
                    notifications.c.target.in_(sorted(self._disabled)),
                    notifications.c.status == PENDING,
                )
                .values(status=FAILED, last_error="endpoint disabled (HTTP 410 Gone)")
            )

    def _give_up(self, now: datetime) -> None:
        """Mark failed what waited longer than give_up_h; one line per target and pass."""
        cutoff = now - self.give_up
        with self._engine.begin() as conn:
            old = conn.execute(
                select(notifications.c.id, notifications.c.target).where(
                    notifications.c.status == PENDING, notifications.c.created_at < cutoff
                )
            ).all()
            if not old:
                return
            conn.execute(
                update(notifications)
                .where(notifications.c.id.in_([r.id for r in old]))
                .values(status=FAILED)
            )
        hours = self.give_up.total_seconds() / 3600
        for target, count in Counter(r.target for r in old).items():
            channel = self.channels.get(target)
            name = channel.name if channel is not None else target
            log.error(
                "notify: gave up %d message(s) to %s after %g h undelivered", count, name, hours
            )

    def _prune(self, now: datetime) -> None:
        """Forget given-up rows older than failed_keep_days."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(notifications).where(
                    notifications.c.status == FAILED,
                    notifications.c.created_at < now - self.failed_keep,
                )
            )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
