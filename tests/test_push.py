"""Push through a real Apprise call (its json:// plugin) to an HTTP receiver on loopback."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.support.push_receiver import PushReceiver
from tests.support.store import pending
from watcher.config.notify import PushConfig
from watcher.notify.dispatcher import Dispatcher
from watcher.notify.push import PushChannel, text_of
from watcher.store import StoreWriter

pytest.importorskip("apprise")

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    made = PushReceiver([500])
    yield made
    made.close()


def test_one_push_per_stranger_with_the_snapshot_retried_and_no_token_in_logs(
    tmp_path: Path,
    engine: Engine,
    writer: StoreWriter,
    receiver: PushReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    snapshot = tmp_path / "snap.jpg"
    snapshot.write_bytes(b"\xff\xd8the-snapshot\xff\xd9")
    url = f"json://pushuser:tok3n-secret@127.0.0.1:{receiver.port}/push"
    channel = PushChannel(PushConfig(url=url))
    dispatcher = Dispatcher(engine, [channel], retry_min_s=0.1, retry_max_s=0.3)
    writer.notify_targets = {channel.target: channel.kinds}
    with caplog.at_level(logging.DEBUG):
        writer.open_event("ev1", "front_door", T0)
        writer.update_event("ev1", snapshot_path=str(snapshot), face_path=str(snapshot))
        writer.update_event("ev1", decision="unknown: beyond every bound")  # no second push
        writer.close_event("ev1", T0 + timedelta(seconds=5))
        assert writer.flush()
        deadline = time.monotonic() + 20
        while pending(engine) and time.monotonic() < deadline:
            time.sleep(min(dispatcher.run_once(), 0.2))
    assert pending(engine) == 0
    assert [g["status"] for g in receiver.got] == [500, 200]  # retried once, then once
    (push,) = receiver.delivered()
    assert push["title"] == "front_door: Unknown face"
    assert "on front_door" in str(push["message"])
    (attachment,) = push["attachments"]  # type: ignore[misc]
    assert base64.b64decode(attachment["base64"]) == snapshot.read_bytes()
    expected = "Basic " + base64.b64encode(b"pushuser:tok3n-secret").decode()
    assert receiver.auth[-1] == expected
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "tok3n-secret" not in text and "json://…" in text  # the retry's line
    assert "tok3n-secret" not in repr(PushConfig(url=url))


def test_an_event_without_a_picture_still_pushes_at_its_end(
    engine: Engine, writer: StoreWriter, receiver: PushReceiver
) -> None:
    receiver.statuses.clear()
    url = f"json://127.0.0.1:{receiver.port}/push"
    channel = PushChannel(PushConfig(url=url, events=["new", "end"]))
    dispatcher = Dispatcher(engine, [channel])
    writer.notify_targets = {channel.target: channel.kinds}
    writer.open_event("ev2", "garage", T0)
    writer.close_event("ev2", T0 + timedelta(seconds=2))
    assert writer.flush()
    dispatcher.run_once()
    assert [g["title"] for g in receiver.delivered()] == ["garage: Unknown face"]
    assert receiver.delivered()[0]["attachments"] == []


def test_the_text_names_the_identity_and_its_visit() -> None:
    after = {"camera": "door", "identity": "unknown-3", "visits": 4, "start_time": T0.isoformat()}
    title, body = text_of("new", after)
    assert title == "door: unknown-3, 4th visit"
    assert body.startswith("Seen at ")
