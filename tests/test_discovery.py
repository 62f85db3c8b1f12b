"""Home Assistant discovery and start-up state over a real Mosquitto broker."""

from __future__ import annotations

import json
import time
from typing import Any

import paho.mqtt.client as mqtt

from tests.support.mosquitto import Broker, Subscriber
from tests.support.mosquitto import broker as broker  # noqa: F401  (the fixture)
from watcher.config.notify import MqttConfig
from watcher.notify.discovery import device_config, discovery_topic
from watcher.notify.mqtt import MqttChannel

# What Home Assistant's MQTT discovery documents as required, for device-based discovery
# (`<prefix>/device/<id>/config`): a device with identifiers, an origin with a name, and
# components, each with its platform and a unique_id; then per platform.
PLATFORM_REQUIRES: dict[str, tuple[tuple[str, ...], ...]] = {
    "binary_sensor": (("state_topic",),),
    "image": (("image_topic", "url_topic"),),  # exactly one of them
    "sensor": (("state_topic",),),
    "switch": (("command_topic",),),
    "event": (("state_topic",), ("event_types",)),
}


def check_device_discovery(payload: dict[str, Any]) -> None:
    device = payload["device"]
    assert device.get("identifiers") or device.get("connections")
    assert payload["origin"]["name"]
    assert payload["components"]
    for key, component in payload["components"].items():
        platform = component["platform"]
        if len(component) == 1:
            continue  # a removal: the platform only, as Home Assistant documents it
        assert platform in PLATFORM_REQUIRES, platform
        assert component["unique_id"], key
        for alternatives in PLATFORM_REQUIRES[platform]:
            present = [a for a in alternatives if a in component]
            assert len(present) == 1, (key, alternatives)
        for name, value in component.items():
            if name.endswith("_topic"):
                assert "#" not in value and "+" not in value
    ids = [c["unique_id"] for c in payload["components"].values() if len(c) > 1]
    assert len(ids) == len(set(ids))


def test_the_payload_has_what_home_assistant_requires() -> None:
    payload = device_config(
        "watcher", "watcher", ["front_door", "garage"], host="pi", people=["alice", "bob/x"]
    )
    check_device_discovery(payload)
    components = payload["components"]
    assert components["person_alice"]["platform"] == "sensor"
    assert components["person_alice"]["state_topic"] == "watcher/people/alice"
    assert components["person_bob_x"]["state_topic"] == "watcher/people/bob_x"
    assert components["front_door_stranger"]["state_topic"] == "watcher/front_door/stranger"
    assert components["garage_snapshot"]["image_topic"] == "watcher/garage/snapshot"
    assert payload["availability_topic"] == "watcher/available"
    assert discovery_topic("homeassistant", "watcher one") == (
        "homeassistant/device/watcher_one/config"
    )


def test_announced_on_connect_and_again_when_home_assistant_comes_online(
    broker: Broker,  # noqa: F811
) -> None:
    broker.start()
    # A stranger state retained from before a crash: stale once watcher starts again.
    stale = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="stale")
    stale.connect(broker.host, broker.port)
    stale.loop_start()
    stale.publish("watcher/front_door/stranger", "ON", qos=1, retain=True).wait_for_publish(5)

    ha = Subscriber(broker, "#", client_id="ha").start()
    channel = MqttChannel(
        MqttConfig(host=broker.host, port=broker.port), cameras=["front_door", "garage"]
    ).start()
    try:
        assert channel.wait_connected(20)
        (config,) = ha.wait("homeassistant/device/watcher/config")
        assert config.retain is False  # live; a newcomer gets it retained
        check_device_discovery(json.loads(config.payload))
        stranger = ha.wait("watcher/front_door/stranger", 2)
        assert stranger[-1].payload == b"OFF"

        stale.publish("homeassistant/status", "online", qos=1).wait_for_publish(5)
        ha.wait("homeassistant/device/watcher/config", 2)
        time.sleep(0.3)
        assert ha.on("watcher/events") == []  # announcing never replays an event

        late = Subscriber(broker, "homeassistant/#", client_id="late").start()
        (kept,) = late.wait("homeassistant/device/watcher/config")
        assert kept.retain and json.loads(kept.payload) == json.loads(config.payload)
        late.stop()
    finally:
        channel.close()
        ha.stop()
        stale.disconnect()
        stale.loop_stop()


def test_a_camera_removed_from_the_config_is_removed_from_home_assistant(
    broker: Broker,  # noqa: F811
) -> None:
    broker.start()
    config = MqttConfig(host=broker.host, port=broker.port)
    topic = "homeassistant/device/watcher/config"
    first = MqttChannel(config, cameras=["front_door", "garage"]).start()
    assert first.wait_connected(20)
    watch = Subscriber(broker, topic, client_id="ha").start()
    watch.wait(topic)
    first.close()

    second = MqttChannel(config, cameras=["front_door"]).start()
    try:
        assert second.wait_connected(20)
        # The config without the garage, then once more with its components removed.
        payloads = [json.loads(m.payload) for m in watch.wait(topic, 3)]
        last = payloads[-1]["components"]
        assert last["garage_stranger"] == {"platform": "binary_sensor"}
        assert last["garage_snapshot"] == {"platform": "image"}
        assert last["front_door_stranger"]["state_topic"] == "watcher/front_door/stranger"
        check_device_discovery(payloads[-1])
        time.sleep(0.5)
        assert len(watch.on(topic)) == 3  # no loop: the removal is made once
    finally:
        second.close()
        watch.stop()

    third = MqttChannel(config, cameras=["front_door"]).start()  # a later start: nothing more
    try:
        assert third.wait_connected(20)
        late = Subscriber(broker, topic, client_id="late").start()
        deadline = time.monotonic() + 10  # the retained one, then maybe the announcement
        while time.monotonic() < deadline:
            got = late.on(topic)
            if got and "garage_stranger" not in json.loads(got[-1].payload)["components"]:
                break
            time.sleep(0.05)
        kept = late.on(topic)[-1]
        assert "garage_stranger" not in json.loads(kept.payload)["components"]
        late.stop()
    finally:
        third.close()


def test_people_added_to_or_removed_from_the_gallery_are_announced_without_a_restart(
    broker: Broker,  # noqa: F811
) -> None:
    broker.start()
    topic = "homeassistant/device/watcher/config"
    config = MqttConfig(host=broker.host, port=broker.port)
    channel = MqttChannel(config, cameras=["front_door"], people=["alice"]).start()
    watch = Subscriber(broker, topic, client_id="ha").start()
    try:
        assert channel.wait_connected(20)
        first = json.loads(watch.wait(topic)[-1].payload)["components"]
        assert "person_alice" in first and "person_bob" not in first
        # The gallery's hot reload brought bob: a sensor for him, at once.
        channel.set_people(["bob", "alice"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            last = json.loads(watch.on(topic)[-1].payload)["components"]
            if "person_bob" in last:
                break
            time.sleep(0.1)
        assert last["person_bob"]["state_topic"] == "watcher/people/bob"
        check_device_discovery({**json.loads(watch.on(topic)[-1].payload)})
        # alice was removed from the gallery: her sensor is removed from Home Assistant.
        count = len(watch.on(topic))
        channel.set_people(["bob"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(watch.on(topic)) == count:
            time.sleep(0.1)
        last = json.loads(watch.on(topic)[-1].payload)["components"]
        assert len(last["person_alice"]) == 1 and "platform" in last["person_alice"], last
        assert len(last["person_bob"]) > 1
        channel.set_people(["bob"])  # nothing changed: nothing published
        time.sleep(0.5)
        assert len(watch.on(topic)) == count + 1
    finally:
        channel.close()
        watch.stop()
