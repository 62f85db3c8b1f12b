"""When a push goes out: armed over MQTT (a real broker), quiet hours, a cooldown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.support.mosquitto import Broker, Subscriber, publisher
from tests.support.mosquitto import broker as broker  # noqa: F401  (the fixture)
from tests.support.push_receiver import PushReceiver
from tests.support.store import pending
from watcher.config import load_config
from watcher.config.notify import MqttConfig, NotifyConfig, PushConfig
from watcher.notify.dispatcher import Dispatcher
from watcher.notify.mqtt import MqttChannel
from watcher.notify.rules import Gate, in_quiet_hours
from watcher.store import StoreWriter

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def test_quiet_hours_may_wrap_midnight() -> None:
    night = (clock_time(22), clock_time(7))
    assert in_quiet_hours(clock_time(23, 30), *night)
    assert in_quiet_hours(clock_time(6, 59), *night)
    assert not in_quiet_hours(clock_time(7), *night)
    assert not in_quiet_hours(clock_time(12), *night)
    assert in_quiet_hours(clock_time(13), clock_time(12), clock_time(14))
    assert not in_quiet_hours(clock_time(13), clock_time(12), clock_time(12))


def test_unquoted_yaml_times_are_read_as_times(tmp_path: Path) -> None:
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "notify: {quiet_hours: {start: 22:30, end: 07:00}, cooldown_min: 30}\n"
        "cameras: {cam: {source: demo}}\n"
    )
    quiet = load_config(path).notify.quiet_hours
    assert quiet is not None and (quiet.start, quiet.end) == (clock_time(22, 30), clock_time(7))


def test_the_gate_mutes_by_camera_quiet_hours_and_cooldown() -> None:
    gate = Gate(
        NotifyConfig(
            cameras=["door"], cooldown_min=10, quiet_hours={"start": "22:00", "end": "07:00"}
        )
    )
    noon = datetime(2026, 12, 5, 12, 0).astimezone()
    assert gate.why_muted("garage", "unknown-1", noon) == "camera garage is not in notify.cameras"
    assert gate.why_muted("door", "unknown-1", noon.replace(hour=23)) == "quiet hours"
    assert gate.why_muted("door", "unknown-1", noon) is None
    assert gate.why_muted("door", "unknown-1", noon) is None  # asking is not pushing
    gate.pushed("unknown-1")
    assert gate.why_muted("door", "unknown-1", noon) == "unknown-1 was pushed less than 10 min ago"
    assert gate.why_muted("door", "unknown-2", noon) is None
    assert gate.why_muted("door", None, noon) is None  # no identity yet: no cooldown
    gate.set_armed(False, "door")
    assert gate.why_muted("door", None, noon) == "disarmed"
    assert gate.armed() and not gate.armed("door")


@pytest.fixture
def pushes() -> Iterator[PushReceiver]:
    made = PushReceiver()
    yield made
    made.close()


def stranger(writer: StoreWriter, dispatcher: Dispatcher, engine: Engine, event_id: str) -> None:
    writer.open_event(event_id, "door", T0)
    writer.update_event(event_id, snapshot_path="/nonexistent/snap.jpg")
    writer.close_event(event_id, T0 + timedelta(seconds=3))
    assert writer.flush()
    deadline = time.monotonic() + 20
    while pending(engine) and time.monotonic() < deadline:
        time.sleep(min(dispatcher.run_once(), 0.1))
    assert pending(engine) == 0


def test_disarmed_over_mqtt_no_push_armed_again_pushed_and_kept_across_a_restart(
    broker: Broker,  # noqa: F811
    engine: Engine,
    writer: StoreWriter,
    pushes: PushReceiver,
) -> None:
    pytest.importorskip("apprise")
    from watcher.notify.push import PushChannel

    broker.start()
    config = MqttConfig(host=broker.host, port=broker.port)
    gate = Gate(NotifyConfig())
    channel = MqttChannel(config, cameras=["door"], gate=gate).start()
    push = PushChannel(PushConfig(url=pushes.url), gate)
    dispatcher = Dispatcher(engine, [push])
    writer.notify_targets = {push.target: push.kinds}
    with publisher(broker) as ha:
        assert channel.wait_connected(20)
        watch = Subscriber(broker, "watcher/+/armed", client_id="watch").start()
        ha.publish("watcher/door/armed/set", "OFF", qos=1).wait_for_publish(5)
        assert watch.wait("watcher/door/armed")[-1].payload == b"OFF"
        watch.stop()
        assert not gate.armed("door")
        stranger(writer, dispatcher, engine, "ev1")
        assert pushes.titles == []  # decided, not sent: nothing waits in the outbox

        channel.close()  # a restart: the retained state comes back
        gate2 = Gate(NotifyConfig())
        again = MqttChannel(config, cameras=["door"], gate=gate2).start()
        try:
            assert again.wait_connected(20)
            deadline = time.monotonic() + 10
            while gate2.armed("door") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not gate2.armed("door")
            ha.publish("watcher/door/armed/set", "ON", qos=1).wait_for_publish(5)
            deadline = time.monotonic() + 10
            while not gate2.armed("door") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gate2.armed("door")
        finally:
            again.close()
        push2 = PushChannel(PushConfig(url=pushes.url), gate2)
        dispatcher2 = Dispatcher(engine, [push2])
        stranger(writer, dispatcher2, engine, "ev2")
        assert pushes.titles == ["door: Unknown face"]


def test_suspend_and_gallery_reload_act_once_and_never_from_a_retained_message(
    broker: Broker,  # noqa: F811
) -> None:
    broker.start()
    reloads: list[float] = []
    gate = Gate(NotifyConfig())
    # A retained command left on the broker (by someone's mistake) must not act on connect.
    with publisher(broker) as ha:
        ha.publish("watcher/gallery/reload", "", qos=1, retain=False).wait_for_publish(5)
        ha.publish("watcher/notifications/suspend", "60", qos=1, retain=True).wait_for_publish(5)
        channel = MqttChannel(
            MqttConfig(host=broker.host, port=broker.port),
            cameras=["door"],
            gate=gate,
            on_reload=lambda: reloads.append(time.monotonic()),
        ).start()
        try:
            assert channel.wait_connected(20)
            time.sleep(0.5)
            assert gate.why_muted("door", None) is None  # the retained suspend was ignored
            ha.publish("watcher/notifications/suspend", "", qos=1, retain=True)  # clear it
            ha.publish("watcher/notifications/suspend", "30", qos=1).wait_for_publish(5)
            deadline = time.monotonic() + 10
            while gate.why_muted("door", None) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gate.why_muted("door", None) == "notifications suspended"
            ha.publish("watcher/notifications/suspend", "0", qos=1).wait_for_publish(5)
            deadline = time.monotonic() + 10
            while gate.why_muted("door", None) is not None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gate.why_muted("door", None) is None
            ha.publish("watcher/gallery/reload", "", qos=1).wait_for_publish(5)
            deadline = time.monotonic() + 10
            while not reloads and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(reloads) == 1
        finally:
            channel.close()


def test_a_presence_topic_mutes_pushes_while_someone_is_home(
    broker: Broker,  # noqa: F811
) -> None:
    broker.start()
    with publisher(broker) as ha:
        # Home Assistant's state, retained before watcher starts: it counts (a state).
        ha.publish("home/someone_home", "home", qos=1, retain=True).wait_for_publish(5)
        gate = Gate(NotifyConfig(presence_topic="home/someone_home"))
        channel = MqttChannel(
            MqttConfig(host=broker.host, port=broker.port), cameras=["door"], gate=gate
        ).start()
        try:
            assert channel.wait_connected(20)
            deadline = time.monotonic() + 10
            while gate.why_muted("door", None) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gate.why_muted("door", None) == "someone is home"
            ha.publish("home/someone_home", "not_home", qos=1, retain=True).wait_for_publish(5)
            deadline = time.monotonic() + 10
            while gate.why_muted("door", None) is not None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gate.why_muted("door", None) is None
        finally:
            channel.close()


def test_pushes_by_kind_and_the_watch_list_named() -> None:
    from watcher.notify.push import text_of

    gate = Gate(NotifyConfig(kinds=["unknown"]))
    assert gate.why_muted("door", None, kind="watch_listed") == (
        "watch_listed events are not in notify.kinds"
    )
    assert gate.why_muted("door", None, kind="unknown") is None
    after = {"camera": "door", "kind": "watch_listed", "person": "mallory", "start_time": "x"}
    assert text_of("new", after)[0] == "door: mallory (watch-list)"


def test_a_first_start_says_every_armed_state_so_home_assistant_never_shows_unknown(
    broker: Broker,  # noqa: F811
) -> None:
    broker.start()
    config = MqttConfig(host=broker.host, port=broker.port)
    gate = Gate(NotifyConfig())
    gate.set_armed(False, "garage")  # as a command would have left it
    channel = MqttChannel(config, cameras=["door", "garage"], gate=gate).start()
    try:
        assert channel.wait_connected(20)
        deadline = time.monotonic() + 10
        states: dict[str, bytes] = {}
        while time.monotonic() < deadline and len(states) < 3:
            time.sleep(0.5)
            probe = Subscriber(broker, "watcher/#", client_id=f"probe{len(states)}").start()
            time.sleep(0.3)  # retained messages come right after the subscription
            states = {
                m.topic: m.payload
                for m in probe.on("watcher/armed")
                + probe.on("watcher/door/armed")
                + probe.on("watcher/garage/armed")
                if m.retain
            }
            probe.stop()
        assert states == {
            "watcher/armed": b"ON",
            "watcher/door/armed": b"ON",
            "watcher/garage/armed": b"OFF",
        }
    finally:
        channel.close()
