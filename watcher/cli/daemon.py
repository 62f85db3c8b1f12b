"""`watcher run` (the daemon) and `watcher status` (what the running one is doing)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
from contextlib import ExitStack
from datetime import UTC, datetime

from watcher.cli.common import (
    CommandFailed,
    Subparsers,
    command,
    faces_and_gallery,
    guard,
    one_line,
    print_json,
    store,
)
from watcher.cli.startup import start_up
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
    with ExitStack() as stack:
        with start_up(collect=True):  # the libraries, the models, the gallery, the database
            from watcher.housekeeping import recover_open_events
            from watcher.service.daemon import Daemon

            engine, gallery = faces_and_gallery(cfg, cfg.detectors)  # the cameras share a pool
            writer, db = stack.enter_context(store(cfg))
        # Events a crash or power cut left open end at their clip's last frame.
        closed = recover_open_events(db, socket.gethostname(), recordings=cfg.recordings_dir)
        if closed:
            log.warning("closed %d event(s) left open by an earlier crash", closed)
        return Daemon(cfg, engine, gallery, writer, db, stop=stop).run()


@guard
def status(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Print the status the running daemon last wrote (every few seconds)."""
    from watcher.pipeline.status import STATUS_FILE, CameraStatus, read_status

    path = cfg.recordings_dir / STATUS_FILE
    doc = read_status(cfg.recordings_dir)
    if doc is None:
        raise CommandFailed(f"no status in {path}: is watcher running?")
    try:
        written = datetime.fromisoformat(str(doc["written_at"]))
        pid = int(doc["pid"])
        cameras = [CameraStatus(**item) for item in doc["cameras"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise CommandFailed(f"{path} is not a status watcher wrote ({one_line(exc)})") from None
    alive = _running(pid)
    if args.json:
        print_json({**doc, "running": alive})
        return EXIT_OK
    age = (datetime.now(UTC) - written).total_seconds()
    if not alive:
        state = f" - NOT RUNNING (pid {pid} is gone): the last status it wrote"
    elif age > _STALE_S:
        state = f" - STALE ({age:.0f} s old): the daemon may be stuck"
    else:
        state = ""
    print(f"watcher pid {pid}, status of {written.astimezone():%Y-%m-%d %H:%M:%S}{state}")
    for camera in cameras:
        print("  " + camera.line())
    return EXIT_OK


def _running(pid: int) -> bool:
    """Whether a process with this pid exists (one we may not signal still exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # the daemon runs as another user (the service account)
    return True
