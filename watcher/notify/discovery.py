"""Home Assistant MQTT discovery: one device per watcher, its entities per camera.

Device-based discovery (`<discovery_prefix>/device/<node>/config`, retained): the device
(this watcher host), the origin (watcher), and per camera a `binary_sensor` (a stranger
is there: `<prefix>/<camera>/stranger`) and two `image` entities (the last stranger's
snapshot and face crop). Every entity goes unavailable with `<prefix>/available`.
Home Assistant asks for it again by publishing `online` to `<discovery_prefix>/status`.
"""

from __future__ import annotations

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


def device_config(
    prefix: str, client_id: str, cameras: Sequence[str], host: str | None = None
) -> dict[str, Any]:
    """The device discovery payload for these cameras."""
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
        for kind, title in (("snapshot", "last stranger"), ("face", "last stranger's face")):
            components[f"{camera}_{kind}"] = {
                "platform": "image",
                "name": f"{camera} {title}",
                "unique_id": f"{node}_{camera}_{kind}",
                "image_topic": f"{prefix}/{camera}/{kind}",
                "content_type": "image/jpeg",
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
