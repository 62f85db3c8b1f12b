"""A throwaway Mosquitto broker on a loopback port, and a subscriber that records what it gets.

`broker` starts Debian's `mosquitto` with a temporary config (no persistence, so a
restart forgets retained messages unless a test wants otherwise), can stop and start
it again on the same port, and kills it afterwards; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
START_S = 10.0


def _skip_unless_required(reason: str) -> None:
    """Skip without mosquitto, or fail where the test command installed it (services required)."""
    if os.environ.get("WATCHER_TEST_SERVICES") == "required":
        pytest.fail(f"{reason} (the test command installed it, so this is a fault)")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path, name: str = "broker") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key (openssl, bounded)."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Broker:
    """One mosquitto process at a time on a fixed loopback port."""

    def __init__(
        self,
        folder: Path,
        *,
        users: dict[str, str] | None = None,
        persistent: bool = False,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """`tls`: (certificate, key) of the listener, which then speaks only TLS."""
        assert MOSQUITTO is not None
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        lines = [f"listener {self.port} 127.0.0.1"]
        if tls is not None:
            lines += [f"certfile {tls[0]}", f"keyfile {tls[1]}"]
        if os.geteuid() == 0:  # as root it would switch to user mosquitto: no access to tmp
            lines.append("user root")
        if persistent:  # sessions and queued messages survive a stop() with SIGTERM
            lines += ["persistence true", f"persistence_location {folder}/"]
        else:
            lines.append("persistence false")
        if users:
            passwd = folder / "passwd"
            passwd.touch()
            for user, password in users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwd), user, password],
                    check=True,
                    capture_output=True,
                    timeout=10,
                )
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> Broker:
        """Start it and wait (bounded) until it accepts connections."""
        assert self.proc is None or self.proc.poll() is not None
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(MOSQUITTO), "-c", str(self.config), "-v"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_S
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"mosquitto did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        return self

    def stop(self, *, graceful: bool = False) -> None:
        """Kill it (as a crash or a network cut would look to clients) and wait, bounded;
        `graceful`: SIGTERM, so that a persistent broker saves its sessions."""
        if self.proc is not None and self.proc.poll() is None:
            if graceful:
                self.proc.terminate()
            else:
                self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto broker, not started yet (tests start it when they want it up)."""
    if MOSQUITTO is None:
        _skip_unless_required("mosquitto is not installed (apt-get install mosquitto)")
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    made = Broker(folder)
    try:
        yield made
    finally:
        made.stop()


@contextlib.contextmanager
def publisher(broker: Broker, client_id: str = "ha") -> Iterator[mqtt.Client]:
    """A paho client connected to `broker`, its network loop running (Home Assistant, say)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


@dataclass
class Received:
    """One message a subscriber got."""

    topic: str
    payload: bytes
    retain: bool


@dataclass
class Subscriber:
    """A paho client subscribed to `<prefix>/#`, recording every message it receives."""

    broker: Broker
    topics: str = "#"
    client_id: str = "test-subscriber"
    clean: bool = True  # False: a persistent session, its QoS 1 messages queued while away
    messages: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self._subscribed = threading.Event()
        self._make()

    def _make(self) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=self.clean
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_a: self._subscribed.set()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def start(self, timeout: float = 10.0) -> Subscriber:
        self.client.connect(self.broker.host, self.broker.port, 30)
        self.client.subscribe(self.topics, qos=1)
        self.client.loop_start()
        assert self._subscribed.wait(timeout), "subscription not acknowledged"
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def restart(self, timeout: float = 10.0) -> Subscriber:
        """Connect again (a persistent session gets what was queued while it was away)."""
        self.stop()
        self._subscribed.clear()
        self._make()
        return self.start(timeout)

    def on(self, topic: str) -> list[Received]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def wait(self, topic: str, count: int = 1, timeout: float = 20.0) -> list[Received]:
        """Wait (bounded) until `count` messages on `topic` arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [m for m in self.messages if m.topic == topic]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.topic, m.payload[:60]) for m in self.messages]
                    raise AssertionError(f"{count} message(s) on {topic} not seen; got {seen}")
                self._cond.wait(left)
