"""`watcher run` (the daemon) and `watcher status` (what the running one is doing)."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import threading
from datetime import UTC, datetime

from watcher.cli.common import (
    CommandFailed,
    Subparsers,
    command,
    faces_and_gallery,
    guard,
    print_json,
    store,
)
from watcher.config import WatcherConfig
from watcher.constants import EXIT_OK
from watcher.service import runlock

log = logging.getLogger("watcher")
_STALE_S = 45.0  # the daemon rewrites its status every 10 s


def register(sub: Subparsers) -> None:
    """Add `run` and `status` to the command line."""
    command(sub, "run", "watch the configured cameras (the daemon)", run)
    parser = command(sub, "status", "what each camera of the daemon is doing", status)
    parser.add_argument("--json", action="store_true", help="the status document as JSON")


@guard
def run(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """The daemon: watch every enabled camera until SIGTERM or SIGINT."""
    # A stop request during start-up (loading models, recovering events) is kept
    # and honoured by the daemon before any camera starts.
    stop = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    # First of all: a second daemon on these recordings would record every visit
    # twice, and its recovery below would close the running one's live events.
    try:
        lock = runlock.acquire(cfg.recordings_dir)
    except runlock.AlreadyRunning as exc:
        raise CommandFailed(str(exc)) from None
    except OSError as exc:  # no folder can be made: the daemon still keeps events in the DB
        log.warning("cannot lock %s: %s", cfg.recordings_dir, exc.strerror or exc)
        lock = None
    try:
        return _run(cfg, stop)
    finally:
        if lock is not None:
            lock.release()


def _run(cfg: WatcherConfig, stop: threading.Event) -> int:
    from watcher.housekeeping import recover_open_events
    from watcher.pipeline.daemon import Daemon

    engine, gallery = faces_and_gallery(cfg, cfg.detectors)  # the cameras share a pool
    with store(cfg) as (writer, db):
        # Events a crash or power cut left open end at their clip's last frame.
        closed = recover_open_events(db, socket.gethostname(), recordings=cfg.recordings_dir)
        if closed:
            log.warning("closed %d event(s) left open by an earlier crash", closed)
        return Daemon(cfg, engine, gallery, writer, db, stop=stop).run()


@guard
def status(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Print the status the running daemon last wrote (every few seconds)."""
    from watcher.pipeline.status import STATUS_FILE, CameraStatus, read_status

    doc = read_status(cfg.recordings_dir)
    if doc is None:
        raise CommandFailed(f"no status in {cfg.recordings_dir / STATUS_FILE}: is watcher running?")
    if args.json:
        print_json(doc)
        return EXIT_OK
    written = datetime.fromisoformat(doc["written_at"])
    age = (datetime.now(UTC) - written).total_seconds()
    stale = f" - STALE ({age:.0f} s old): the daemon may not be running" if age > _STALE_S else ""
    print(f"watcher pid {doc['pid']}, status of {written.astimezone():%Y-%m-%d %H:%M:%S}{stale}")
    for item in doc["cameras"]:
        print("  " + CameraStatus(**item).line())
    return EXIT_OK
