"""sd_notify over a real NOTIFY_SOCKET datagram socket, and thread liveness for the watchdog."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.service import Keepalive, Liveness, Notifier, parse_address, parse_watchdog

RECV_TIMEOUT_S = 5.0


class Listener:
    """The service manager's end: a bound AF_UNIX datagram socket."""

    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address  # the $NOTIFY_SOCKET value

    def receive(self, timeout: float = RECV_TIMEOUT_S) -> dict[str, str]:
        """The next datagram as its fields; fails after `timeout` seconds."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n"))

    def wait_for(self, key: str, timeout: float) -> dict[str, str]:
        """Datagrams until one has `key`; fails after `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                fields = self.receive(left)
            except TimeoutError:
                break
            if key in fields:
                return fields
        raise AssertionError(f"no {key}= within {timeout} s")

    def empty(self) -> bool:
        """True when nothing is waiting."""
        self.sock.settimeout(0.05)
        try:
            self.sock.recv(4096)
        except TimeoutError:
            return True
        return False


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    path = tmp_path / "notify.sock"
    short = None
    if len(str(path)) > 100:  # sun_path holds 108 bytes; pytest's tmp_path may be longer
        short = Path(tempfile.mkdtemp(prefix="wn-"))
        path = short / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    try:
        yield Listener(sock, str(path))
    finally:
        sock.close()
        if short is not None:
            shutil.rmtree(short, ignore_errors=True)


def env_for(listener: Listener, **extra: str) -> dict[str, str]:
    return {"NOTIFY_SOCKET": listener.address, **extra}


# -- Notifier ------------------------------------------------------------------------


def test_ready_status_watchdog_stopping_reach_the_socket(listener: Listener) -> None:
    notifier = Notifier(env_for(listener))
    assert notifier.enabled
    assert notifier.ready()
    assert listener.receive() == {"READY": "1"}
    assert notifier.status("front_door: connected, 12.0 fps")
    assert listener.receive() == {"STATUS": "front_door: connected, 12.0 fps"}
    assert notifier.watchdog()
    assert listener.receive() == {"WATCHDOG": "1"}
    assert notifier.stopping()
    assert listener.receive() == {"STOPPING": "1"}
    notifier.close()
    assert notifier.ready("1 camera")  # a closed notifier opens its socket again
    assert listener.receive() == {"READY": "1", "STATUS": "1 camera"}


def test_status_stays_on_one_line(listener: Listener) -> None:
    notifier = Notifier(env_for(listener))
    notifier.status("front_door: ok\nREADY=1")  # a newline must not smuggle a field in
    assert listener.receive() == {"STATUS": "front_door: ok READY=1"}


def test_reloading(listener: Listener) -> None:
    notifier = Notifier(env_for(listener))
    before = time.monotonic_ns() // 1000
    notifier.reloading()
    fields = listener.receive()
    assert fields["RELOADING"] == "1"
    assert before <= int(fields["MONOTONIC_USEC"]) <= time.monotonic_ns() // 1000


def test_abstract_socket_name() -> None:
    name = f"watcher-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        notifier = Notifier({"NOTIFY_SOCKET": f"@{name}"})
        assert notifier.ready()
        sock.settimeout(RECV_TIMEOUT_S)
        assert sock.recv(4096) == b"READY=1"


def test_without_a_socket_every_call_is_a_no_op() -> None:
    notifier = Notifier({"WATCHDOG_USEC": "30000000"})
    assert not notifier.enabled
    for call in (notifier.ready, notifier.watchdog, notifier.stopping, notifier.reloading):
        assert call() is False
    assert notifier.status("x") is False
    assert notifier.watchdog_interval() is None  # nobody to ping


def test_send_errors_never_raise_and_log_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    with caplog.at_level(logging.DEBUG, logger="watcher.service"):
        results = [notifier.watchdog() for _ in range(5)]
    assert results == [False] * 5
    assert len([r for r in caplog.records if "cannot send" in r.message]) == 1


def test_unsupported_socket_values_switch_notifications_off() -> None:
    assert parse_address(None) is None
    assert parse_address("") is None
    assert parse_address("relative/path") is None
    assert parse_address("@") is None
    assert parse_address("/run/systemd/notify") == "/run/systemd/notify"
    assert parse_address("@abstract") == "\0abstract"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "4242"}, 1.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # someone else's
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "me"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(
    env: dict[str, str], expected: float | None
) -> None:
    assert parse_watchdog(env, pid=4242) == expected
    notifier = Notifier({"NOTIFY_SOCKET": "/run/systemd/notify", **env}, pid=4242)
    assert notifier.watchdog_interval() == expected


def test_watchdog_pid_defaults_to_this_process() -> None:
    env = {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier(env).watchdog_interval() == 2.0


# -- Liveness ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_liveness_reports_only_threads_silent_past_their_limit() -> None:
    clock = FakeClock()
    live = Liveness(clock)
    live.register("main", 15)
    live.register("camera.front_door.capture", 90)
    live.register("camera.front_door.analyse", 120)
    assert live.stale() == []
    clock.now += 16
    assert live.stale() == ["main"]
    live.beat("main")
    assert live.stale() == []
    clock.now += 80  # capture silent 96 s, analyse 96 s, main 80 s
    assert live.stale() == ["camera.front_door.capture", "main"]
    live.beat("camera.front_door.capture")  # a camera retrying its connection still beats
    live.beat("main")
    assert live.stale() == []
    clock.now += 30  # analyse silent 126 s: stuck
    live.beat("main")
    live.beat("camera.front_door.capture")
    assert live.stale() == ["camera.front_door.analyse"]
    assert live.silence("camera.front_door.analyse") == pytest.approx(126)


def test_liveness_register_unregister_and_unknown_beats() -> None:
    clock = FakeClock()
    live = Liveness(clock)
    live.register("camera.garage.capture", 10)
    clock.now += 11
    assert live.stale() == ["camera.garage.capture"]
    live.unregister("camera.garage.capture")  # the camera was removed by a reload
    assert live.stale() == [] and live.names() == []
    live.beat("camera.garage.capture")  # a late beat from its thread: ignored, no error
    live.unregister("never-registered")
    assert live.silence("camera.garage.capture") is None
    with pytest.raises(ValueError):
        live.register("main", 0)


def test_liveness_is_thread_safe() -> None:
    live = Liveness()
    names = [f"camera.c{i}.capture" for i in range(8)]
    for name in names:
        live.register(name, 60)
    errors: list[BaseException] = []

    def hammer(name: str) -> None:
        try:
            for _ in range(2000):
                live.beat(name)
                live.stale()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads) and not errors
    assert live.stale() == []


# -- Keepalive: WATCHDOG=1 only while everything is alive ------------------------------


def test_keepalive_pings_every_interval_only_while_nothing_is_stale(
    listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    live = Liveness(clock)
    live.register("camera.front_door.analyse", 120)
    notifier = Notifier(env_for(listener, WATCHDOG_USEC="30000000"))
    keepalive = Keepalive(notifier, live, clock=clock)
    assert keepalive.interval == 15.0
    assert keepalive.tick()  # at once
    assert listener.receive() == {"WATCHDOG": "1"}
    clock.now += 10
    assert not keepalive.tick() and listener.empty()  # not due yet
    clock.now += 5
    assert keepalive.tick()
    assert listener.receive() == {"WATCHDOG": "1"}
    with caplog.at_level(logging.INFO, logger="watcher.service"):
        clock.now += 121  # the analysis thread is stuck
        assert not keepalive.tick() and not keepalive.tick()
        assert listener.empty()
        live.beat("camera.front_door.analyse")  # it came back before systemd acted
        assert keepalive.tick()
    assert listener.receive() == {"WATCHDOG": "1"}
    stuck = [r for r in caplog.records if "stuck" in r.message]
    assert len(stuck) == 1 and "camera.front_door.analyse" in stuck[0].message


def test_keepalive_without_watchdog_does_nothing(listener: Listener) -> None:
    keepalive = Keepalive(Notifier(env_for(listener)), Liveness())
    assert keepalive.interval is None
    assert not keepalive.tick() and listener.empty()


# -- the real daemon (draft: wired by the lead) ----------------------------------------


@pytest.mark.timeout(180)
def test_daemon_speaks_sd_notify(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.cli import write_config
    from tests.support.daemon import Daemon

    config = write_config(tmp_path, source="demo")
    # tests.daemon.Daemon passes os.environ on to `python -m watcher run -c CONFIG`.
    monkeypatch.setenv("NOTIFY_SOCKET", listener.address)
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # a ping every second
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    with Daemon(config) as daemon:
        ready = listener.wait_for("READY", timeout=120)  # the face model loads first
        status = ready.get("STATUS") or listener.wait_for("STATUS", timeout=10)["STATUS"]
        assert "cam" in status, status
        listener.wait_for("WATCHDOG", timeout=5)
        listener.wait_for("WATCHDOG", timeout=5)  # and again: it keeps pinging
        daemon.proc.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING", timeout=10)
        assert daemon.stop(signal.SIGTERM, timeout=30) == 0
