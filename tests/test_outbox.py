"""The notifications outbox: rows written with the event change, delivered in order, retried."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from tests.support.cli import watcher, write_config
from watcher.notify.channel import DELIVERED, Message, Outcome
from watcher.notify.dispatcher import Dispatcher, backoff_s
from watcher.store import StoreWriter, init_db, make_engine
from watcher.store.models import Notification

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
TARGETS = {"a": frozenset({"new", "update", "end"}), "b": frozenset({"end"})}


class Recorder:
    """A channel that records what it is given and fails while told to."""

    def __init__(self, target: str, failures: int = 0) -> None:
        self.target = target
        self.name = f"recorder {target}"
        self.failures = failures
        self.got: list[Message] = []
        self.attempts = 0
        self.up = True

    def ready(self) -> bool:
        return self.up

    def deliver(self, message: Message) -> Outcome:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            return Outcome(False, error="HTTP 500")
        self.got.append(message)
        return DELIVERED

    def close(self) -> None:
        pass


def rows(engine: Engine) -> list[Notification]:
    with engine.connect() as conn:
        return list(conn.execute(select(Notification).order_by(Notification.id)).all())


def one_event(writer: StoreWriter, event_id: str = "e1", snapshot: Path | None = None) -> None:
    writer.open_event(event_id, "front_door", T0)
    writer.update_event(event_id, clip_path="/r/clip.mp4")  # not a reported change
    writer.update_event(event_id, snapshot_path=str(snapshot or "/r/s.jpg"), face_path="/r/f.jpg")
    writer.close_event(event_id, T0 + timedelta(seconds=9))
    assert writer.flush()


def test_the_writer_adds_a_row_per_message_and_target_with_the_change(
    writer: StoreWriter, engine: Engine
) -> None:
    woken = threading.Event()
    writer.notify_targets = TARGETS
    writer.on_notify = woken.set
    one_event(writer)
    assert woken.is_set()
    got = rows(engine)
    assert [(r.kind, r.target) for r in got] == [
        ("new", "a"),
        ("update", "a"),
        ("end", "a"),
        ("end", "b"),
    ]
    assert got[2].message_id == got[3].message_id  # one message, two targets: one id
    assert len({r.message_id for r in got}) == 3
    new, upd, end = (json.loads(r.payload) for r in got[:3])
    assert new["type"] == "new" and new["before"] is None and new["id"] == got[0].message_id
    assert new["after"]["camera"] == "front_door" and new["after"]["status"] == "open"
    assert datetime.fromisoformat(new["after"]["start_time"]) == T0  # ISO 8601 with its zone
    assert upd["before"]["snapshot"] is None and upd["after"]["snapshot"] == "/r/s.jpg"
    assert upd["after"]["clip"] == "/r/clip.mp4"
    assert end["before"]["end_time"] is None and end["after"]["status"] == "closed"
    assert datetime.fromisoformat(end["after"]["end_time"]) == T0 + timedelta(seconds=9)


def test_no_targets_no_rows(writer: StoreWriter, engine: Engine) -> None:
    one_event(writer)
    assert rows(engine) == []


def test_a_failed_event_write_leaves_no_message(writer: StoreWriter, engine: Engine) -> None:
    writer.notify_targets = TARGETS
    writer.update_event("nope", decision="x")  # no such event: the transaction rolls back
    writer.close_event("nope", T0)
    assert writer.flush()
    assert rows(engine) == []


def test_delivery_in_order_per_event_with_retries_then_deleted(
    writer: StoreWriter, engine: Engine
) -> None:
    writer.notify_targets = {"a": TARGETS["a"]}
    one_event(writer, "e1")
    one_event(writer, "e2")
    channel = Recorder("a", failures=2)
    dispatcher = Dispatcher(engine, [channel], retry_min_s=0.05, retry_max_s=0.2)
    deadline = time.monotonic() + 20
    while rows(engine) and time.monotonic() < deadline:
        time.sleep(min(dispatcher.run_once(), 0.2))
    assert rows(engine) == []
    assert [(m.event_id, m.kind) for m in channel.got] == [
        ("e1", "new"),
        ("e1", "update"),
        ("e1", "end"),
        ("e2", "new"),
        ("e2", "update"),
        ("e2", "end"),
    ]
    assert channel.attempts == 8  # two failures, then each message once


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    import random

    rng = random.Random(1)
    for attempt, ceiling in ((1, 1), (2, 2), (3, 4), (4, 8), (10, 30)):
        delays = [backoff_s(attempt, 1, 30, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter


def test_a_target_that_is_down_is_not_tried_and_its_rows_wait(
    writer: StoreWriter, engine: Engine
) -> None:
    writer.notify_targets = {"a": TARGETS["a"]}
    one_event(writer)
    channel = Recorder("a")
    channel.up = False
    dispatcher = Dispatcher(engine, [channel])
    dispatcher.run_once()
    assert channel.attempts == 0 and len(rows(engine)) == 3
    channel.up = True
    dispatcher.run_once()
    assert len(channel.got) == 3 and rows(engine) == []


def test_gives_up_after_give_up_h_logs_once_and_status_shows_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(
        tmp_path, extra="webhooks:\n  - url: http://127.0.0.1:9/hook\nnotify:\n  give_up_h: 1\n"
    )
    from watcher.config import load_config
    from watcher.notify import make_dispatcher, targets_of

    cfg = load_config(config)
    engine = make_engine(cfg.database_url)
    init_db(engine)
    dispatcher = make_dispatcher(cfg, engine)
    assert dispatcher is not None
    writer = StoreWriter(engine).start()
    try:
        writer.notify_targets = targets_of(list(dispatcher.channels.values()))
        one_event(writer, "old")
        one_event(writer, "new")
    finally:
        assert writer.stop()
    with engine.begin() as conn:
        conn.execute(
            update(Notification)
            .where(Notification.event_id == "old")
            .values(created_at=datetime.now(UTC) - timedelta(hours=2))
        )
    status = watcher("notify", "status", "-c", str(config))
    assert status.returncode == 0, status.stderr
    assert "webhook http://127.0.0.1:9/hook: 6 pending" in status.stdout
    # Nothing can be delivered (nobody listens on port 9); the old ones are given up, once.
    dispatcher.channels = {}
    with caplog.at_level(logging.ERROR, logger="watcher.notify"):
        dispatcher.run_once()
        dispatcher.run_once()
    gave_up = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert gave_up == [
        "notify: gave up 3 message(s) to "
        + next(iter(writer.notify_targets))
        + " after 1 h undelivered"
    ]
    status = watcher("notify", "status", "-c", str(config), "--json")
    (line,) = json.loads(status.stdout)
    assert (line["pending"], line["failed"]) == (3, 3)
    engine.dispose()


@pytest.mark.postgres
def test_the_outbox_on_postgresql(pg_server: object) -> None:
    """The same rows, order and delivery on a shared PostgreSQL database."""
    url = pg_server.create_database()  # type: ignore[attr-defined]
    engine = make_engine(url)
    init_db(engine)
    writer = StoreWriter(engine).start()
    try:
        writer.notify_targets = {"a": TARGETS["a"]}
        one_event(writer, "pg1")
        writer.person_seen("alice", "front_door", T0)  # not taken by "a": no row
        assert [(r.kind, r.target) for r in rows(engine)] == [
            ("new", "a"),
            ("update", "a"),
            ("end", "a"),
        ]
        channel = Recorder("a", failures=1)
        dispatcher = Dispatcher(engine, [channel], retry_min_s=0.05, retry_max_s=0.1)
        deadline = time.monotonic() + 20
        while rows(engine) and time.monotonic() < deadline:
            time.sleep(min(dispatcher.run_once(), 0.2))
        assert [m.kind for m in channel.got] == ["new", "update", "end"]
        assert rows(engine) == []
    finally:
        assert writer.stop()
        engine.dispose()


def test_a_watch_listed_persons_event_says_so_from_its_first_message(
    writer: StoreWriter, engine: Engine
) -> None:
    writer.notify_targets = {"a": TARGETS["a"]}
    writer.open_event("w1", "door", T0, decision="watch-list: mallory")
    writer.open_event("s1", "door", T0, decision="unknown: 0.800 from bob (bound 0.550)")
    assert writer.flush()
    watched, stranger = (json.loads(r.payload) for r in rows(engine))
    assert watched["type"] == "new"
    assert (watched["after"]["kind"], watched["after"]["person"]) == ("watch_listed", "mallory")
    assert (stranger["after"]["kind"], stranger["after"]["person"]) == ("unknown", None)
    assert stranger["after"]["decision"].startswith("unknown: 0.800 from bob")
