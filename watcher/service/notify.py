"""sd_notify without libsystemd: datagrams to $NOTIFY_SOCKET, a no-op outside systemd."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from typing import Final

log = logging.getLogger("watcher.service")

ENV_SOCKET: Final = "NOTIFY_SOCKET"
ENV_WATCHDOG_USEC: Final = "WATCHDOG_USEC"
ENV_WATCHDOG_PID: Final = "WATCHDOG_PID"
# Bounded so a wedged service manager can never hang the daemon's main loop.
SEND_TIMEOUT_S: Final = 1.0
# STATUS= is shown by `systemctl status` on one line; keep it readable there.
STATUS_MAX_CHARS: Final = 200


def parse_address(value: str | None) -> str | None:
    """Turn $NOTIFY_SOCKET into a socket address: a path, or "\\0name" for "@name"."""
    if not value:
        return None
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]  # Linux abstract namespace
    if value.startswith("/"):
        return value
    return None  # relative paths and vsock: are not for us (systemd uses neither here)


def parse_watchdog(env: Mapping[str, str], pid: int) -> float | None:
    """Return the ping period (half of $WATCHDOG_USEC) in seconds, or None if not for `pid`."""
    raw = env.get(ENV_WATCHDOG_USEC, "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = env.get(ENV_WATCHDOG_PID)
    if owner:
        try:
            if int(owner) != pid:
                return None  # inherited from a parent: the watchdog watches someone else
        except ValueError:
            return None
    return usec / 1_000_000 / 2


def _one_line(text: str) -> str:
    """Keep a STATUS= text on one line: a newline would start a new field."""
    flat = " ".join(text.split())
    return flat[:STATUS_MAX_CHARS]


class Notifier:
    """Talks to the service manager; every call is a cheap no-op without $NOTIFY_SOCKET."""

    def __init__(self, env: Mapping[str, str] | None = None, *, pid: int | None = None) -> None:
        env = os.environ if env is None else env
        raw = env.get(ENV_SOCKET)
        self._address = parse_address(raw)
        if raw and self._address is None:
            log.debug("sd_notify: unsupported %s=%r, notifications off", ENV_SOCKET, raw)
        self._watchdog = (
            parse_watchdog(env, os.getpid() if pid is None else pid) if self._address else None
        )
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._failing = False

    @property
    def enabled(self) -> bool:
        """True when a service manager listens."""
        return self._address is not None

    def notify(self, *fields: str) -> bool:
        """Send "KEY=value" fields in one datagram; True if sent (never raises)."""
        if self._address is None or not fields:
            return False
        data = "\n".join(fields).encode("utf-8", "replace")
        with self._lock:
            try:
                if self._sock is None:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    sock.settimeout(SEND_TIMEOUT_S)
                    self._sock = sock
                self._sock.sendto(data, self._address)
            except OSError as exc:
                if not self._failing:  # one line per outage, not one per ping
                    log.debug("sd_notify: cannot send to %s: %s", self._address, exc)
                self._failing = True
                return False
            self._failing = False
            return True

    def ready(self, status: str | None = None) -> bool:
        """READY=1 (start-up finished), optionally with a STATUS= text."""
        fields = ["READY=1"]
        if status is not None:
            fields.append(f"STATUS={_one_line(status)}")
        return self.notify(*fields)

    def status(self, text: str) -> bool:
        """STATUS=text, shown by `systemctl status`."""
        return self.notify(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        """WATCHDOG=1: the keep-alive ping."""
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        """STOPPING=1: shutdown has begun."""
        fields = ["STOPPING=1"]
        if status is not None:
            fields.append(f"STATUS={_one_line(status)}")
        return self.notify(*fields)

    def reloading(self) -> bool:
        """RELOADING=1 with MONOTONIC_USEC (Type=notify-reload wants both); send ready() after."""
        usec = time.monotonic_ns() // 1000  # CLOCK_MONOTONIC on Linux, as systemd expects
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half of $WATCHDOG_USEC), None when none are wanted."""
        return self._watchdog

    def close(self) -> None:
        """Close the socket (a later call opens it again)."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
