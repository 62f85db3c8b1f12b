"""MQTT: the only module that imports paho-mqtt (2.x, callback API version 2, QoS 1).

Topics under the prefix (default `watcher`):
  available              `online` on every connect, `offline` as the last will; retained
  events                 the JSON message {id, type, before, after}; never retained
  <camera>/stranger      `ON` while an event is open, `OFF` after; retained
  <camera>/snapshot      the JPEG of the latest event's snapshot; retained
  <camera>/face          the JPEG of its face crop; retained
Images are published with the `update` that names them: the recorder reports them only
once their file is written, so a subscriber never gets half a picture.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as mqtt

from watcher.config.notify import MqttConfig, MqttTlsConfig
from watcher.notify.channel import DELIVERED, Message, Outcome
from watcher.notify.discovery import (
    device_config,
    discovery_topic,
    topic_level,
    with_removals,
)
from watcher.notify.rules import Gate

log = logging.getLogger("watcher.notify")

TARGET: Final = "mqtt"
QOS: Final = 1
# After connecting, how long retained armed states may take to come back before the
# ones that did not are published (a broker answers a subscription within milliseconds).
ARMED_STATE_WAIT_S: Final = 2.0
PUBLISH_TIMEOUT_S: Final = 10.0
RECONNECT_MIN_S: Final = 1
RECONNECT_MAX_S: Final = 30
PROBE_TIMEOUT_S: Final = 5.0
PRESENT: Final = frozenset({b"on", b"home", b"true", b"1"})  # notify.presence_topic


class MqttChannel:
    """A paho client with its own network thread, reconnecting by itself."""

    def __init__(
        self,
        config: MqttConfig,
        *,
        cameras: Sequence[str] = (),
        people: Sequence[str] = (),
        gate: Gate | None = None,
        on_reload: Callable[[], None] | None = None,
        reconnect_max_s: int = RECONNECT_MAX_S,
    ) -> None:
        self.config = config
        self.cameras = tuple(cameras)
        self.people = tuple(people)  # known people, a sensor each in Home Assistant
        self.gate = gate  # armed or not, set by commands (None: no commands)
        self.on_reload = on_reload  # `<prefix>/gallery/reload`: read the gallery again
        self._first_connect = True
        self._closing = False
        self.target = TARGET
        self.name = f"MQTT broker {config.host}:{config.port}"
        self.prefix = config.topic_prefix
        self.kinds = frozenset({"new", "update", "end", "seen"})
        self._connected = threading.Event()
        self._said_down = False  # one line per outage, not one per reconnect attempt
        # Armed states (None: the global one) a retained message told since connecting.
        self._armed_heard: set[str | None] = set()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,  # the broker keeps nothing of ours to replay
        )
        if config.user is not None:
            client.username_pw_set(config.user, config.read_password())
        tls = config.tls
        if tls is not None:
            client.tls_set(
                ca_certs=str(tls.ca_file) if tls.ca_file else None,
                certfile=str(tls.cert_file) if tls.cert_file else None,
                keyfile=str(tls.key_file) if tls.key_file else None,
            )
            client.tls_insecure_set(tls.insecure)
        client.will_set(self.topic("available"), "offline", qos=QOS, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_S, max(RECONNECT_MIN_S, reconnect_max_s))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        # Subscriptions of this connection not yet acknowledged; set when none is left.
        self._pending_subs: set[int] = set()
        self._subscribed = threading.Event()
        self._subs_lock = threading.Lock()
        self._client = client

    def topic(self, *levels: str) -> str:
        """A topic under the prefix."""
        return "/".join((self.prefix, *levels))

    def start(self) -> MqttChannel:
        """Connect in the background (a broker that is down is retried, never waited for)."""
        self._client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        self._client.loop_start()
        return self

    # -- paho callbacks (its network thread) -----------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            if not self._said_down:
                log.error("notify: %s refused the connection: %s", self.name, reason)
            self._said_down = True
            return
        with self._subs_lock:
            self._pending_subs.clear()  # a connection lost before its SUBACKs: asked again
        client.publish(self.topic("available"), "online", qos=QOS, retain=True)
        if self._first_connect:
            # No event is open at start (recovery closed what a crash left open): a
            # stranger state retained from before the restart is stale. Messages of
            # events opened since are delivered after this, so they win.
            self._first_connect = False
            for camera in self.cameras:
                client.publish(self.topic(camera, "stranger"), "OFF", qos=QOS, retain=True)
        if self.gate is not None:
            # The retained state comes back first (armed survives a restart), then commands.
            self._armed_heard = set()
            timer = threading.Timer(ARMED_STATE_WAIT_S, self._tell_armed, (client,))
            timer.daemon = True
            timer.start()
            self._subscribe(client, self.topic("armed"))
            self._subscribe(client, self.topic("+", "armed"))
            self._subscribe(client, self.topic("armed", "set"))
            self._subscribe(client, self.topic("+", "armed", "set"))
            self._subscribe(client, self.topic("notifications", "suspend"))
            if self.gate.config.presence_topic:
                self._subscribe(client, self.gate.config.presence_topic)
        if self.on_reload is not None:
            self._subscribe(client, self.topic("gallery", "reload"))
        if self.config.discovery:
            self._subscribe(client, f"{self.config.discovery_prefix}/status")
            # Our retained config from before comes back first: a camera gone since is
            # then removed (see _on_message).
            self._subscribe(client, self._discovery_topic)
            self._announce(client)
        self._connected.set()
        with self._subs_lock:
            if not self._pending_subs:
                self._subscribed.set()
        self._said_down = False
        log.info("notify: connected to %s", self.name)

    @property
    def _discovery_topic(self) -> str:
        return discovery_topic(self.config.discovery_prefix, self.config.client_id)

    def _device(self) -> dict[str, Any]:
        return device_config(self.prefix, self.config.client_id, self.cameras, people=self.people)

    def set_people(self, people: Sequence[str]) -> None:
        """The gallery's people changed (a hot reload): announce the new set at once, a
        sensor for each newcomer and a removal for each one gone (no restart needed)."""
        wanted = tuple(sorted(people))
        if wanted == self.people:
            return
        before = json.dumps(self._device()).encode()
        self.people = wanted
        if not self._connected.is_set():
            return  # the next connection announces them
        update = with_removals(self._device(), before) or self._device()
        self._client.publish(self._discovery_topic, json.dumps(update), qos=QOS, retain=True)
        log.info("notify: Home Assistant: the known people are now %s", ", ".join(wanted) or "none")

    def _announce(self, client: mqtt.Client) -> None:
        """Publish the Home Assistant device discovery config (retained)."""
        client.publish(self._discovery_topic, json.dumps(self._device()), qos=QOS, retain=True)

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """Home Assistant came (back) online: announce again. Our retained config names
        a camera no longer configured: remove its components."""
        if self.gate is not None and msg.topic == self.gate.config.presence_topic:
            # A state, not a command: retained is what it should be.
            home = bytes(msg.payload).strip().lower() in PRESENT
            self.gate.set_home(home)
            log.info("notify: %s: %s", msg.topic, "someone is home" if home else "nobody home")
            return
        if msg.topic in (self.topic("notifications", "suspend"), self.topic("gallery", "reload")):
            self._one_shot(msg)
            return
        if self.gate is not None and self._command(client, msg):
            return
        if msg.topic == f"{self.config.discovery_prefix}/status" and msg.payload == b"online":
            self._announce(client)
        elif msg.topic == self._discovery_topic:
            update = with_removals(self._device(), bytes(msg.payload))
            if update is not None:
                gone = sorted(k for k, v in update["components"].items() if len(v) == 1)
                log.info("notify: Home Assistant: removing %s", ", ".join(gone))
                client.publish(self._discovery_topic, json.dumps(update), qos=QOS, retain=True)

    def _one_shot(self, msg: mqtt.MQTTMessage) -> None:
        """Commands that act once: never from a retained message, which a reconnect
        would replay."""
        if msg.retain:
            log.warning("notify: %s: a retained command is ignored", msg.topic)
            return
        if msg.topic.endswith("/gallery/reload"):
            if self.on_reload is not None:
                log.info("notify: gallery reload asked over MQTT")
                self.on_reload()
            return
        if self.gate is None:
            return
        try:
            minutes = float(bytes(msg.payload).decode().strip() or "0")
        except (UnicodeDecodeError, ValueError):
            log.warning("notify: %s: expected a number of minutes", msg.topic)
            return
        if not 0 <= minutes <= 7 * 24 * 60:
            log.warning("notify: %s: minutes out of range (0 to a week)", msg.topic)
            return
        self.gate.suspend(minutes)
        log.info(
            "notify: pushes %s",
            f"suspended for {minutes:g} min" if minutes > 0 else "resumed",
        )

    def _command(self, client: mqtt.Client, msg: mqtt.MQTTMessage) -> bool:
        """`armed/set` (global or per camera): ON or OFF, answered on the retained state
        topic; the retained state itself is read back at connect. True if it was one."""
        assert self.gate is not None
        levels = msg.topic.split("/")[len(self.prefix.split("/")) :]
        camera: str | None = None
        if levels[:1] == ["armed"]:
            rest = levels[1:]
        elif len(levels) >= 2 and levels[1] == "armed" and levels[0] in self.cameras:
            camera, rest = levels[0], levels[2:]
        else:
            return False
        if rest not in ([], ["set"]):
            return False
        value = bytes(msg.payload).strip().upper()
        if value not in (b"ON", b"OFF"):
            if rest == ["set"]:
                log.warning("notify: %s: expected ON or OFF", msg.topic)
            return True
        armed = value == b"ON"
        if rest == ["set"]:
            self.gate.set_armed(armed, camera)
            self._armed_heard.add(camera)
            state = self.topic(camera, "armed") if camera else self.topic("armed")
            client.publish(state, value.decode(), qos=QOS, retain=True)
            goes_on = self.gate.config.record_when_disarmed
            recording = "recording goes on" if goes_on else "nothing is recorded"
            what = "armed" if armed else f"disarmed ({recording})"
            log.info("notify: %s %s", camera or "every camera", what)
        else:
            self.gate.set_armed(armed, camera)  # the state kept from before
            self._armed_heard.add(camera)
        return True

    def _tell_armed(self, client: mqtt.Client) -> None:
        """The armed states no retained message told (a first start): said, retained, so
        Home Assistant's switches show ON or OFF rather than "unknown"."""
        if self.gate is None or not self._connected.is_set():
            return
        for camera in (None, *self.cameras):
            if camera not in self._armed_heard:
                on = self.gate.armed() if camera is None else self.gate.own_armed(camera)
                state = "ON" if on else "OFF"
                topic = self.topic(camera, "armed") if camera else self.topic("armed")
                client.publish(topic, state, qos=QOS, retain=True)

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        self._subscribed.clear()
        if was and not self._closing:
            log.warning("notify: lost %s (%s); reconnecting", self.name, reason)

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        if not self._said_down:
            # paho keeps the reason to itself: one probe says it (refused, no route,
            # a certificate that does not verify), once per outage.
            reason = probe(self.config)
            log.warning(
                "notify: cannot connect to %s%s; retrying",
                self.name,
                f": {reason}" if reason else "",
            )
        self._said_down = True

    # -- delivery (the dispatcher's thread) --------------------------------------------------

    def ready(self) -> bool:
        return self._connected.is_set()

    def _subscribe(self, client: mqtt.Client, topic: str) -> None:
        """Subscribe, noting the request until the broker acknowledges it."""
        with self._subs_lock:
            self._subscribed.clear()
            result, mid = client.subscribe(topic, qos=QOS)
            if result == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                self._pending_subs.add(mid)

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, mid: int, _reasons: Any, _props: Any
    ) -> None:
        with self._subs_lock:
            self._pending_subs.discard(mid)
            if not self._pending_subs and self._connected.is_set():
                self._subscribed.set()

    def wait_connected(self, timeout_s: float) -> bool:
        """For tests: wait (bounded) for a connection whose subscriptions (commands, Home
        Assistant's status) the broker has acknowledged."""
        deadline = time.monotonic() + timeout_s
        return self._connected.wait(timeout_s) and self._subscribed.wait(
            max(0.0, deadline - time.monotonic())
        )

    def publications(self, message: Message) -> list[tuple[str, bytes | str, bool]]:
        """What one message publishes: (topic, payload, retained)."""
        body = message.body()
        if message.kind == "seen":  # presence: the last camera and time, retained
            person = str(body.get("person", ""))
            state = {"camera": body.get("camera"), "time": body.get("time")}
            return [(self.topic("people", topic_level(person)), json.dumps(state), True)]
        after = body.get("after") or {}
        before = body.get("before") or {}
        out: list[tuple[str, bytes | str, bool]] = [(self.topic("events"), message.payload, False)]
        camera = message.camera
        if message.kind == "new":
            out.append((self.topic(camera, "stranger"), "ON", True))
        elif message.kind == "end":
            out.append((self.topic(camera, "stranger"), "OFF", True))
        if message.kind == "update" and after.get("snapshot") and not before.get("snapshot"):
            # Home Assistant's event entity: who it was, once per event, with its picture.
            watched = after.get("kind") == "watch_listed"
            fired = {
                "event_type": "watch_listed_person" if watched else "unknown_face",
                "identity": after.get("person") if watched else after.get("identity"),
                "event_id": after.get("id"),
            }
            out.append((self.topic(camera, "face_event"), json.dumps(fired), False))
        for key in ("snapshot", "face"):
            path = after.get(key)
            if path and (message.kind == "update" or path != before.get(key)):
                data = _read(path)
                if data is not None:
                    out.append((self.topic(camera, key), data, True))
        return out

    def deliver(self, message: Message) -> Outcome:
        if not self.ready():
            return Outcome(False, error="not connected")
        infos = []
        for topic, payload, retain in self.publications(message):
            info = self._client.publish(topic, payload, qos=QOS, retain=retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                return Outcome(False, error=f"publish failed: {mqtt.error_string(info.rc)}")
            infos.append(info)
        deadline = time.monotonic() + PUBLISH_TIMEOUT_S
        for info in infos:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:
                return Outcome(False, error=str(exc))
            if not info.is_published():
                return Outcome(False, error="no PUBACK from the broker in time")
        return DELIVERED

    def close(self) -> None:
        """Say `offline` (retained) and disconnect; bounded."""
        self._closing = True
        if self._connected.is_set():
            info = self._client.publish(self.topic("available"), "offline", qos=QOS, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(2.0)
        self._client.disconnect()
        self._client.loop_stop()


def tls_context(tls: MqttTlsConfig) -> ssl.SSLContext:
    """The TLS context paho's tls_set makes of these settings, for the probe."""
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file is not None:
        context.load_cert_chain(
            str(tls.cert_file), str(tls.key_file) if tls.key_file is not None else None
        )
    if tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def probe(config: MqttConfig, timeout_s: float = PROBE_TIMEOUT_S) -> str:
    """Why a TCP (and TLS) connection to the broker fails, on one line; "" if it does not."""
    try:
        with socket.create_connection((config.host, config.port), timeout=timeout_s) as sock:
            if config.tls is not None:
                with tls_context(config.tls).wrap_socket(sock, server_hostname=config.host):
                    pass
    except ssl.SSLCertVerificationError as exc:
        detail = exc.verify_message or exc.reason
        return f"TLS: certificate verify failed: {detail} (check mqtt.tls.ca_file)"
    except ssl.SSLError as exc:
        return f"TLS: {exc.reason or exc}"
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    return ""


def _read(path: str) -> bytes | None:
    """A picture's bytes; None when it is gone (retention, a full disk)."""
    try:
        return Path(path).read_bytes()
    except OSError:
        return None
