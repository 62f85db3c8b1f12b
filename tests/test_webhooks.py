"""Webhooks against real HTTP receivers on loopback that verify the signatures."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tests.support.webhook_receiver import SECRET, Receiver
from watcher.config.notify import WebhookConfig
from watcher.notify.dispatcher import Dispatcher
from watcher.notify.signing import signature, verify
from watcher.notify.webhook import WebhookChannel, retry_after_s
from watcher.store import StoreWriter
from watcher.store.models import Notification

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
WAIT_S = 20.0


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


@pytest.fixture
def dispatchers() -> Iterator[list[Dispatcher]]:
    made: list[Dispatcher] = []
    yield made
    for dispatcher in made:
        assert dispatcher.stop(10)


def start(
    engine: Engine,
    writer: StoreWriter,
    config: WebhookConfig,
    dispatchers: list[Dispatcher],
    **kwargs: float,
) -> WebhookChannel:
    channel = WebhookChannel(config)
    options = {"retry_min_s": 0.1, "retry_max_s": 0.5, **kwargs}
    dispatcher = Dispatcher(engine, [channel], **options)  # type: ignore[arg-type]
    writer.notify_targets = {channel.target: channel.kinds}
    writer.on_notify = dispatcher.wake
    dispatchers.append(dispatcher.start())
    return channel


def outbox(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (r.kind, r.status)
            for r in conn.execute(select(Notification).order_by(Notification.id)).all()
        ]


def wait_until(check: object, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_signature_matches_the_standard_webhooks_example() -> None:
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    assert verify(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, f"v1,x {expected}")
    assert not verify(SECRET, "msg_other", 1614265330, body, expected)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_s("7") == 7.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_s(None) is None and retry_after_s("soon") is None


def test_500_then_200_is_delivered_once_signed_with_one_id(
    engine: Engine,
    writer: StoreWriter,
    receivers: list[Receiver],
    dispatchers: list[Dispatcher],
) -> None:
    receiver = Receiver([(500, {}), (500, {})])
    receivers.append(receiver)
    start(engine, writer, WebhookConfig(url=receiver.url(), secret=SECRET), dispatchers)
    writer.open_event("ev1", "front_door", T0)
    writer.close_event("ev1", T0 + timedelta(seconds=4))
    assert writer.flush()
    wait_until(lambda: len(receiver.delivered()) == 2 and outbox(engine) == [])
    time.sleep(0.5)
    assert [r["status"] for r in receiver.requests] == [500, 500, 200, 200]
    assert all(r["signed"] and r["fresh"] for r in receiver.requests)
    # The retries carry the same id (a receiver drops duplicates by it); each message once.
    assert len({r["id"] for r in receiver.requests[:3]}) == 1
    new, end = (r["body"] for r in receiver.delivered())
    assert (new["type"], end["type"]) == ("new", "end")  # type: ignore[index]
    assert new["id"] == receiver.requests[0]["id"]  # type: ignore[index]


def test_410_disables_the_endpoint_and_says_so_once(
    engine: Engine,
    writer: StoreWriter,
    receivers: list[Receiver],
    dispatchers: list[Dispatcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = Receiver([(410, {})])
    receivers.append(receiver)
    with caplog.at_level(logging.INFO, logger="watcher.notify"):
        start(engine, writer, WebhookConfig(url=receiver.url(), secret=SECRET), dispatchers)
        writer.open_event("ev1", "front_door", T0)
        writer.close_event("ev1", T0 + timedelta(seconds=4))
        assert writer.flush()
        wait_until(lambda: outbox(engine) == [("new", "failed"), ("end", "failed")])
        writer.open_event("ev2", "front_door", T0)
        assert writer.flush()
        wait_until(lambda: outbox(engine)[-1] == ("new", "failed"))
        time.sleep(0.5)
    assert len(receiver.requests) == 1  # nothing more is sent to a gone endpoint
    disabled = [r.getMessage() for r in caplog.records if "disabled" in r.getMessage()]
    assert disabled == [
        f"notify: webhook {receiver.url()} answered HTTP 410 Gone: disabled until restart, "
        "its messages failed"
    ]


def test_retry_after_is_honoured_and_a_slow_endpoint_times_out(
    engine: Engine,
    writer: StoreWriter,
    receivers: list[Receiver],
    dispatchers: list[Dispatcher],
) -> None:
    receiver = Receiver([(503, {"Retry-After": "2"}), (429, {"Retry-After": "1"})])
    receivers.append(receiver)
    start(engine, writer, WebhookConfig(url=receiver.url(), secret=SECRET), dispatchers)
    writer.open_event("ev1", "front_door", T0)
    assert writer.flush()
    wait_until(lambda: len(receiver.delivered()) == 1)
    at = [float(r["at"]) for r in receiver.requests]  # type: ignore[arg-type]
    assert at[1] - at[0] >= 1.9 and at[2] - at[1] >= 0.9

    slow = Receiver()
    slow.delay_s = 1.5
    receivers.append(slow)
    config = WebhookConfig(url=slow.url(), secret=SECRET, timeout_s=0.3)
    channel = WebhookChannel(config)
    began = time.monotonic()
    from watcher.notify.channel import Message

    outcome = channel.deliver(Message(1, "msg_x", "ev", "cam", "new", '{"id": "msg_x"}'))
    assert not outcome.delivered and time.monotonic() - began < 1.2


def test_credentials_never_in_logs(
    engine: Engine,
    writer: StoreWriter,
    receivers: list[Receiver],
    dispatchers: list[Dispatcher],
    caplog: pytest.LogCaptureFixture,
    tmp_path: object,
) -> None:
    receiver = Receiver([(500, {}), (410, {})])
    receivers.append(receiver)
    url = f"http://hookuser:hunter2pw@127.0.0.1:{receiver.port}/hook"
    with caplog.at_level(logging.DEBUG):
        config = WebhookConfig(url=url, secret=SECRET, events=["new"])
        start(engine, writer, config, dispatchers)
        writer.open_event("ev1", "front_door", T0)
        writer.close_event("ev1", T0)  # not wanted by this endpoint: no row
        assert writer.flush()
        wait_until(lambda: len(receiver.requests) == 2)
        wait_until(lambda: outbox(engine) == [("new", "failed")])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook http://hookuser:***@127.0.0.1" in text
    assert "hunter2pw" not in text and SECRET not in text and SECRET[6:] not in text
    assert "hunter2pw" not in repr(config) and SECRET not in repr(config)


def test_an_endpoint_that_hangs_does_not_delay_another(
    engine: Engine,
    writer: StoreWriter,
    receivers: list[Receiver],
    dispatchers: list[Dispatcher],
) -> None:
    hanging, quick = Receiver(), Receiver()
    hanging.delay_s = 6.0
    receivers.extend([hanging, quick])
    channels = [
        WebhookChannel(WebhookConfig(url=hanging.url(), secret=SECRET, timeout_s=5)),
        WebhookChannel(WebhookConfig(url=quick.url(), secret=SECRET)),
    ]
    dispatcher = Dispatcher(engine, channels, retry_min_s=0.1, retry_max_s=0.5)
    writer.notify_targets = {c.target: c.kinds for c in channels}
    writer.on_notify = dispatcher.wake
    dispatchers.append(dispatcher.start())
    began = time.monotonic()
    writer.open_event("ev1", "front_door", T0)
    writer.close_event("ev1", T0 + timedelta(seconds=4))
    assert writer.flush()
    wait_until(lambda: len(quick.delivered()) == 2, timeout=10)
    assert time.monotonic() - began < 3.5  # not behind the other endpoint's 5 s timeout
    assert [r["body"]["type"] for r in quick.delivered()] == ["new", "end"]  # type: ignore[index]


def test_the_snapshot_as_a_multipart_part_signed_as_a_whole(
    engine: Engine,
    writer: StoreWriter,
    receivers: list[Receiver],
    dispatchers: list[Dispatcher],
    tmp_path: Path,
) -> None:
    snapshot = tmp_path / "snap.jpg"
    snapshot.write_bytes(b"\xff\xd8\r\n--not-a-boundary\r\nthe-snapshot\xff\xd9")
    receiver = Receiver()
    receivers.append(receiver)
    config = WebhookConfig(url=receiver.url(), secret=SECRET, snapshot=True)
    start(engine, writer, config, dispatchers)
    writer.open_event("ev1", "front_door", T0)
    writer.update_event("ev1", snapshot_path=str(snapshot), face_path=str(snapshot))
    writer.update_event("ev1", decision="unknown")  # names no new snapshot: JSON alone
    writer.close_event("ev1", T0 + timedelta(seconds=4))
    assert writer.flush()
    wait_until(lambda: len(receiver.delivered()) == 4)
    got = receiver.delivered()
    assert [r["body"]["type"] for r in got] == ["new", "update", "update", "end"]  # type: ignore[index]
    assert [r["snapshot"] for r in got] == [None, snapshot.read_bytes(), None, None]
    assert all(r["signed"] for r in got)
