"""MQTT against a real Mosquitto broker: nothing lost while it is down, nothing replayed."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.support.mosquitto import Broker, Subscriber
from tests.support.mosquitto import broker as broker  # noqa: F401  (the fixture)
from tests.support.store import pending
from watcher.config.notify import MqttConfig
from watcher.notify.dispatcher import Dispatcher
from watcher.notify.mqtt import MqttChannel
from watcher.store import StoreWriter

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
WAIT_S = 20.0


def wait_until(check: object, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def pictures(tmp_path: Path) -> tuple[Path, Path]:
    snapshot, face = tmp_path / "snap.jpg", tmp_path / "face.jpg"
    snapshot.write_bytes(b"\xff\xd8snapshot-bytes\xff\xd9")
    face.write_bytes(b"\xff\xd8face-bytes\xff\xd9")
    return snapshot, face


def start_notify(
    engine: Engine, writer: StoreWriter, config: MqttConfig
) -> tuple[Dispatcher, MqttChannel]:
    channel = MqttChannel(config, reconnect_max_s=1)
    dispatcher = Dispatcher(engine, [channel], retry_min_s=0.1, retry_max_s=0.5)
    writer.notify_targets = {channel.target: channel.kinds}
    writer.on_notify = dispatcher.wake
    return dispatcher.start(), channel


def event(writer: StoreWriter, pictures: tuple[Path, Path], event_id: str = "ev1") -> None:
    writer.open_event(event_id, "front_door", T0)
    writer.update_event(event_id, snapshot_path=str(pictures[0]), face_path=str(pictures[1]))
    writer.close_event(event_id, T0 + timedelta(seconds=5))
    assert writer.flush()


@pytest.fixture
def stopped() -> Iterator[list[Dispatcher]]:
    made: list[Dispatcher] = []
    yield made
    for dispatcher in made:
        assert dispatcher.stop(10)


@pytest.fixture
def finished(broker: Broker) -> Iterator[list[Broker]]:  # noqa: F811
    """Brokers a test made itself, killed afterwards."""
    made: list[Broker] = []
    yield made
    for one in made:
        one.stop()


def test_broker_down_at_start_then_up_every_message_arrives_none_replayed(
    engine: Engine,
    writer: StoreWriter,
    pictures: tuple[Path, Path],
    stopped: list[Dispatcher],
    finished: list[Broker],
    tmp_path: Path,
) -> None:
    # A persistent subscriber (as Home Assistant is): its QoS 1 messages wait for it.
    broker = Broker(tmp_path / "persistent", persistent=True)
    finished.append(broker)
    broker.start()
    ha = Subscriber(broker, "watcher/#", client_id="ha", clean=False).start()
    ha.stop()
    broker.stop(graceful=True)

    dispatcher, channel = start_notify(
        engine, writer, MqttConfig(host=broker.host, port=broker.port)
    )
    stopped.append(dispatcher)
    event(writer, pictures)
    time.sleep(2.0)  # the broker is down: the messages wait in the outbox
    assert pending(engine) == 3 and not channel.ready()

    broker.start()
    wait_until(lambda: pending(engine) == 0)
    ha.restart()
    events = ha.wait("watcher/events", 3)
    bodies = [json.loads(m.payload) for m in events]
    assert [b["type"] for b in bodies] == ["new", "update", "end"]
    assert len({b["id"] for b in bodies}) == 3
    assert not any(m.retain for m in events)
    assert bodies[2]["after"]["status"] == "closed" and bodies[2]["after"]["camera"] == "front_door"
    stranger = ha.wait("watcher/front_door/stranger", 2)
    # As they were published (re-subscribing also brings the retained OFF, flagged retained).
    assert [m.payload for m in stranger if not m.retain] == [b"ON", b"OFF"]
    assert stranger[-1].payload == b"OFF"
    assert ha.wait("watcher/front_door/snapshot")[0].payload == pictures[0].read_bytes()
    (fired,) = ha.wait("watcher/front_door/face_event")  # Home Assistant's event entity
    assert not fired.retain
    assert json.loads(fired.payload) == {
        "event_type": "unknown_face",
        "identity": None,
        "event_id": "ev1",
    }
    assert ha.wait("watcher/front_door/face")[0].payload == pictures[1].read_bytes()
    ha.stop()

    # A newcomer gets the retained state only: online, OFF, the pictures; no event again.
    late = Subscriber(broker, "watcher/#", client_id="late").start()
    assert late.wait("watcher/available")[-1].payload == b"online"
    assert late.wait("watcher/front_door/stranger")[-1].payload == b"OFF"
    late.wait("watcher/front_door/snapshot")
    time.sleep(1.0)
    assert late.on("watcher/events") == []
    assert all(m.retain for m in late.messages)
    late.stop()

    # Stopping says offline (retained).
    watch = Subscriber(broker, "watcher/available", client_id="watch").start()
    assert dispatcher.stop(10)
    assert watch.wait("watcher/available", 2)[-1].payload == b"offline"
    watch.stop()


def test_a_broker_lost_mid_event_gets_the_rest_when_back(
    broker: Broker,  # noqa: F811
    engine: Engine,
    writer: StoreWriter,
    pictures: tuple[Path, Path],
    stopped: list[Dispatcher],
) -> None:
    broker.start()
    dispatcher, channel = start_notify(
        engine, writer, MqttConfig(host=broker.host, port=broker.port)
    )
    stopped.append(dispatcher)
    assert channel.wait_connected(WAIT_S)
    sub = Subscriber(broker, "watcher/#", client_id="sub").start()
    writer.open_event("mid", "front_door", T0)
    assert writer.flush()
    sub.wait("watcher/events", 1)
    wait_until(lambda: pending(engine) == 0)
    sub.stop()
    broker.stop()  # killed: the client finds out
    wait_until(lambda: not channel.ready())
    writer.close_event("mid", T0 + timedelta(seconds=3))
    assert writer.flush()
    time.sleep(1.0)
    assert pending(engine) == 1
    before = broker.log.read_bytes()
    broker.start()
    wait_until(lambda: pending(engine) == 0)  # PUBACKed by the broker that came back

    # Whoever subscribes when cannot race the reconnect: the broker's own log says what
    # it received since its restart (-v): the `end`, not retained, and the stranger OFF.
    def since() -> str:
        return broker.log.read_bytes()[len(before) :].decode(errors="replace")

    wait_until(lambda: "'watcher/events'" in since(), timeout=5)  # the log is flushed
    events = [line for line in since().splitlines() if "'watcher/events'" in line]
    assert len(events) == 1 and "Received PUBLISH from watcher (d0, q1, r0" in events[0]
    late = Subscriber(broker, "watcher/#", client_id="late").start()
    assert late.wait("watcher/front_door/stranger")[-1].payload == b"OFF"
    time.sleep(0.3)
    assert late.on("watcher/events") == []
    late.stop()


def test_credentials_never_in_logs_and_a_refusal_is_one_clear_line(
    tmp_path: Path,
    engine: Engine,
    writer: StoreWriter,
    pictures: tuple[Path, Path],
    stopped: list[Dispatcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = tmp_path / "secure"
    folder.mkdir()
    secure = Broker(folder, users={"watcher": "s3cr3t-pw-123"})
    secure.start()
    try:
        wrong = tmp_path / "wrong"
        wrong.write_text("not-the-pw-456\n")
        with caplog.at_level(logging.DEBUG):
            dispatcher, channel = start_notify(
                engine,
                writer,
                MqttConfig(host=secure.host, port=secure.port, user="watcher", password_file=wrong),
            )
            time.sleep(2.5)
            assert not channel.ready()
            assert dispatcher.stop(10)
            refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
            assert len(refused) == 1, refused  # once, not once per retry
            assert "Not authorized" in refused[0] or "authori" in refused[0].lower()

            good = tmp_path / "good"
            good.write_text("s3cr3t-pw-123\n")
            config = MqttConfig(
                host=secure.host, port=secure.port, user="watcher", password_file=good
            )
            dispatcher, channel = start_notify(engine, writer, config)
            stopped.append(dispatcher)
            assert channel.wait_connected(WAIT_S)
            event(writer, pictures)
            wait_until(lambda: pending(engine) == 0)
            assert "s3cr3t" not in repr(config) and "s3cr3t" not in str(config.model_dump_json())
        text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
        assert "connected to MQTT broker" in text
        assert "s3cr3t" not in text and "not-the-pw" not in text
    finally:
        secure.stop()
