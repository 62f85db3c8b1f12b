"""The dispatcher: one thread that delivers the outbox, in order, with retries.

Rows are written by the store's writer with the event change they report; this
thread reads them in insertion order and hands each to its channel. A delivered
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
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from watcher.notify.channel import Channel, Message, Outcome
from watcher.store.models import NOTE_LEN, Notification, utcnow
from watcher.store.outbox import FAILED, PENDING
from watcher.worker import IDLE_BEAT_S, Beat, no_beat

log = logging.getLogger("watcher.notify")

THREAD_NAME: Final = "watcher.notify"
BATCH: Final = 200
_PRUNE_EVERY_S: Final = 600.0


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
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the outbox now (the writer committed rows); returns at once."""
        self._wake.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout_s: float) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                return False
        return True

    def drain(self, timeout_s: float) -> bool:
        """Wait (bounded) until nothing deliverable is pending: the last `end` messages at stop."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._wake.set()
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
                        Notification.status == PENDING, Notification.target.in_(up)
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
        while not self._stop.is_set():
            self.beat(self.thread_name)
            try:
                wait = self.run_once()
            except SQLAlchemyError as exc:
                if not self._db_down:
                    log.error("notify: outbox unreadable, retrying: %s", _one_line(exc))
                self._db_down = True
                wait = IDLE_BEAT_S * 5
            else:
                if self._db_down:
                    log.info("notify: outbox readable again")
                self._db_down = False
            self._wake.wait(min(IDLE_BEAT_S, wait))
            self._wake.clear()

    # -- one pass -----------------------------------------------------------------------

    def run_once(self) -> float:
        """Give up what is too old, deliver what is due; return seconds until more is due."""
        now = utcnow()
        self._give_up(now)
        self._fail_disabled()
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + _PRUNE_EVERY_S
            self._prune(now)
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Notification)
                .where(Notification.status == PENDING)
                .order_by(Notification.id)
                .limit(BATCH)
            ).all()
        blocked: set[str] = set()
        next_due = IDLE_BEAT_S
        for row in rows:
            if self._stop.is_set():
                break
            target = row.target
            channel = self.channels.get(target)
            if channel is None or target in blocked or target in self._disabled:
                continue
            resting = self._resting.get(target, 0.0) - time.monotonic()
            due = (row.next_attempt_at - utcnow()).total_seconds()
            if resting > 0 or due > 0 or not channel.ready():
                blocked.add(target)  # nothing later to this target: order per event holds
                next_due = min(next_due, max(resting, due, 0.05))
                continue
            self.beat(self.thread_name)
            message = Message(
                row.id, row.message_id, row.event_id, row.camera, row.kind, row.payload
            )
            try:
                outcome = channel.deliver(message)
            except Exception as exc:  # a channel's bug must not kill the thread
                outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
            self._record(channel, row.id, row.attempts, outcome)
            if not outcome.delivered:
                blocked.add(target)
        return 0.0 if len(rows) == BATCH and not blocked else next_due

    def _record(self, channel: Channel, row_id: int, attempts: int, outcome: Outcome) -> None:
        """Delete a delivered row; schedule the retry of a failed one; disable a gone target."""
        target = channel.target
        with self._engine.begin() as conn:
            if outcome.delivered:
                conn.execute(delete(Notification).where(Notification.id == row_id))
                self._resting.pop(target, None)
                return
            error = (outcome.error or "failed")[:NOTE_LEN]
            if outcome.disable:
                self._disabled.add(target)
                conn.execute(
                    update(Notification)
                    .where(Notification.target == target, Notification.status == PENDING)
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
                update(Notification)
                .where(Notification.id == row_id)
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
                update(Notification)
                .where(
                    Notification.target.in_(sorted(self._disabled)),
                    Notification.status == PENDING,
                )
                .values(status=FAILED, last_error="endpoint disabled (HTTP 410 Gone)")
            )

    def _give_up(self, now: datetime) -> None:
        """Mark failed what waited longer than give_up_h; one line per target and pass."""
        cutoff = now - self.give_up
        with self._engine.begin() as conn:
            old = conn.execute(
                select(Notification.id, Notification.target).where(
                    Notification.status == PENDING, Notification.created_at < cutoff
                )
            ).all()
            if not old:
                return
            conn.execute(
                update(Notification)
                .where(Notification.id.in_([r.id for r in old]))
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
                delete(Notification).where(
                    Notification.status == FAILED, Notification.created_at < now - self.failed_keep
                )
            )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
