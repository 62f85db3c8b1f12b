"""Home Assistant MQTT discovery: one device per watcher, its entities per camera.

Device-based discovery (`<discovery_prefix>/device/<node>/config`, retained): the device
(this watcher host), the origin (watcher), and per camera a `binary_sensor` (a stranger
is there: `<prefix>/<camera>/stranger`) and two `image` entities (the last stranger's
snapshot and face crop). Every entity goes unavailable with `<prefix>/available`.
Home Assistant asks for it again by publishing `online` to `<discovery_prefix>/status`.
A camera removed from the config has its components removed the way Home Assistant
documents it: the device config names them once more with their platform only.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Sequence
from typing import Any, Final

from watcher import __version__

ORIGIN_URL: Final = "https://github.com/"  # no project page yet; HA shows it as a link
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def node_id(client_id: str) -> str:
    """The device's id in topics and unique ids: the client id, made topic-safe."""
    return _UNSAFE.sub("_", client_id) or "watcher"


def discovery_topic(discovery_prefix: str, client_id: str) -> str:
    """Where the device's config is published (retained)."""
    return f"{discovery_prefix}/device/{node_id(client_id)}/config"


def with_removals(config: dict[str, Any], previous: bytes) -> dict[str, Any] | None:
    """`config` plus platform-only entries for the components `previous` (the retained
    config) had and `config` has not; None when nothing is to be removed."""
    try:
        old = json.loads(previous) if previous else {}
    except ValueError:
        return None
    components = old.get("components") if isinstance(old, dict) else None
    if not isinstance(components, dict):
        return None
    gone = {
        key: {"platform": value["platform"]}
        for key, value in components.items()
        if key not in config["components"]
        and isinstance(value, dict)
        and "platform" in value
        and len(value) > 1  # a platform-only entry was a removal already made
    }
    if not gone:
        return None
    return {**config, "components": {**config["components"], **gone}}


def topic_level(name: str) -> str:
    """A name as one topic level (no '/', '#', '+')."""
    return "".join("_" if c in "/#+\x00" else c for c in name) or "_"


def device_config(
    prefix: str,
    client_id: str,
    cameras: Sequence[str],
    host: str | None = None,
    people: Sequence[str] = (),
) -> dict[str, Any]:
    """The device discovery payload for these cameras and known people."""
    node = node_id(client_id)
    host = host or socket.gethostname()
    components: dict[str, dict[str, Any]] = {}
    for camera in cameras:
        components[f"{camera}_stranger"] = {
            "platform": "binary_sensor",
            "name": f"{camera} stranger",
            "unique_id": f"{node}_{camera}_stranger",
            "device_class": "occupancy",
            "state_topic": f"{prefix}/{camera}/stranger",
            "payload_on": "ON",
            "payload_off": "OFF",
        }
        components[f"{camera}_face_event"] = {
            "platform": "event",
            "name": f"{camera} face",
            "unique_id": f"{node}_{camera}_face_event",
            "state_topic": f"{prefix}/{camera}/face_event",
            "event_types": ["unknown_face", "watch_listed_person"],
        }
        for kind, title in (("snapshot", "last stranger"), ("face", "last stranger's face")):
            components[f"{camera}_{kind}"] = {
                "platform": "image",
                "name": f"{camera} {title}",
                "unique_id": f"{node}_{camera}_{kind}",
                "image_topic": f"{prefix}/{camera}/{kind}",
                "content_type": "image/jpeg",
            }
    armed = {"payload_on": "ON", "payload_off": "OFF", "icon": "mdi:shield-home"}
    components["armed"] = {
        "platform": "switch",
        "name": "armed",
        "unique_id": f"{node}_armed",
        "command_topic": f"{prefix}/armed/set",
        "state_topic": f"{prefix}/armed",
        **armed,
    }
    for camera in cameras:
        components[f"{camera}_armed"] = {
            "platform": "switch",
            "name": f"{camera} armed",
            "unique_id": f"{node}_{camera}_armed",
            "command_topic": f"{prefix}/{camera}/armed/set",
            "state_topic": f"{prefix}/{camera}/armed",
            **armed,
        }
    for person in people:
        level = topic_level(person)
        key = _UNSAFE.sub("_", person)
        components[f"person_{key}"] = {
            "platform": "sensor",
            "name": f"{person} last seen",
            "unique_id": f"{node}_person_{key}",
            "icon": "mdi:account-eye",
            "state_topic": f"{prefix}/people/{level}",
            "value_template": "{{ value_json.camera }}",
            "json_attributes_topic": f"{prefix}/people/{level}",
        }
    return {
        "device": {
            "identifiers": [f"watcher_{node}"],
            "name": f"watcher {host}",
            "manufacturer": "watcher",
            "model": "smart camera daemon",
            "sw_version": __version__,
        },
        "origin": {"name": "watcher", "sw_version": __version__, "support_url": ORIGIN_URL},
        "availability_topic": f"{prefix}/available",
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "components": components,
    }
