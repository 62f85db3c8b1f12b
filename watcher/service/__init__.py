"""Running under systemd: sd_notify readiness/status/watchdog, thread liveness, the run lock,
and the daemon of `watcher run` (service.daemon, imported by the CLI only)."""

from watcher.service.notify import Notifier, parse_address, parse_watchdog
from watcher.service.watchdog import (
    ANALYSE_MAX_SILENCE_S,
    CAPTURE_MAX_SILENCE_S,
    GALLERY_MAX_SILENCE_S,
    MAIN_MAX_SILENCE_S,
    RETENTION_MAX_SILENCE_S,
    STORE_MAX_SILENCE_S,
    Keepalive,
    Liveness,
)

__all__ = [
    "ANALYSE_MAX_SILENCE_S",
    "CAPTURE_MAX_SILENCE_S",
    "GALLERY_MAX_SILENCE_S",
    "MAIN_MAX_SILENCE_S",
    "RETENTION_MAX_SILENCE_S",
    "STORE_MAX_SILENCE_S",
    "Keepalive",
    "Liveness",
    "Notifier",
    "parse_address",
    "parse_watchdog",
]
