"""The subcommands behind the CLI: each takes the validated config and parsed arguments."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from watcher.config import CameraConfig, WatcherConfig, summary
from watcher.constants import EXIT_FAILURE, EXIT_OK
from watcher.core import FaceEngine
from watcher.faces import ModelsMissing, open_engine
from watcher.faces.cache import cache_dir
from watcher.faces.gallery import Gallery, load_gallery
from watcher.service import runlock
from watcher.source.base import SourceError
from watcher.store import (
    SchemaError,
    StoreWriter,
    current_revision,
    init_db,
    list_events,
    make_engine,
    recover_open_events,
    upgrade,
)

log = logging.getLogger("watcher")
_STALE_S = 45.0  # the daemon rewrites its status every 10 s


class CommandFailed(RuntimeError):
    """A command cannot go on; its message is the one line the user sees."""


def _faces(cfg: WatcherConfig) -> tuple[FaceEngine, Gallery]:
    try:
        engine = open_engine(cache_dir(cfg.known_faces_dir))
    except ModelsMissing as exc:
        raise CommandFailed(str(exc)) from None
    return engine, load_gallery(engine, cfg.known_faces_dir)


@contextmanager
def _store(cfg: WatcherConfig) -> Iterator[tuple[StoreWriter, Engine]]:
    try:
        engine = make_engine(cfg.database_url)
        init_db(engine)
    except (SQLAlchemyError, OSError, SchemaError) as exc:
        raise CommandFailed(f"database unavailable: {_one_line(exc)}") from None
    writer = StoreWriter(engine).start()
    try:
        yield writer, engine
    finally:
        writer.stop()
        engine.dispose()


def _one_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def guard(
    func: Callable[[WatcherConfig, argparse.Namespace], int],
) -> Callable[[WatcherConfig, argparse.Namespace], int]:
    """Turn a CommandFailed into one line on stderr and exit status 1."""

    def wrapper(cfg: WatcherConfig, args: argparse.Namespace) -> int:
        try:
            return int(func(cfg, args))
        except CommandFailed as exc:
            print(f"watcher: {exc}", file=sys.stderr)
            return EXIT_FAILURE

    wrapper.__doc__ = func.__doc__
    return wrapper


@guard
def check_config(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Print a one-screen summary: cameras, known people and their image counts."""
    _, gallery = _faces(cfg)
    print(summary(cfg))
    people = gallery.people
    images, rejected = len(gallery.names), len(gallery.rejected)
    print(f"known people: {len(people)} ({images} images, {rejected} rejected)")
    for name, count in people.items():
        print(f"  {name}: {count} image{'s' if count != 1 else ''}")
    for item in gallery.rejected:
        print(f"  rejected {item.path}: {item.reason}")
    return EXIT_OK


def _pick_camera(cfg: WatcherConfig, name: str | None) -> CameraConfig:
    cameras = {c.name: c for c in cfg.cameras.values()}
    if name is None:
        return next(iter(cameras.values()))
    if name not in cameras:
        raise CommandFailed(f"no camera named {name!r} (have: {', '.join(cameras)})")
    return cameras[name]


@guard
def replay(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Run the pipeline over a video file and print one JSON document."""
    from watcher.pipeline.replay import replay as run_replay
    from watcher.progress import ProgressBar

    camera = _pick_camera(cfg, args.camera)
    if not args.video.is_file():
        raise CommandFailed(f"{args.video}: no such video file")
    engine, gallery = _faces(cfg)
    bar = ProgressBar(sys.stderr, label=args.video.name)
    with _store(cfg) as (store, _db):
        try:
            doc = run_replay(cfg, camera, args.video, engine, gallery, store, progress=bar.update)
        except SourceError as exc:
            raise CommandFailed(str(exc)) from None
        finally:
            bar.done()
        if not store.flush():
            log.error("some database writes did not complete in time")
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


@guard
def events_list(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """List recorded events, newest first."""
    try:
        engine = make_engine(cfg.database_url)
        init_db(engine)
        records = list_events(engine, camera=args.camera, since=args.since, limit=args.limit)
    except (SQLAlchemyError, OSError, SchemaError) as exc:
        raise CommandFailed(f"database unavailable: {_one_line(exc)}") from None
    if args.json:
        json.dump([r.to_json() for r in records], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not records:
        print("no events")
    for r in records:
        ended = r.ended_at.astimezone().strftime("%H:%M:%S") if r.ended_at else "recording"
        dist = "-" if r.closest_distance is None else f"{r.closest_distance:.2f}"
        print(
            f"{r.started_at.astimezone():%Y-%m-%d %H:%M:%S}–{ended}  {r.camera:<12} {r.id}  "
            f"faces={r.faces} closest={dist} {r.status}  {r.clip_path or '(no clip)'}"
        )
    return EXIT_OK


@guard
def status(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Print the status the running daemon last wrote (every few seconds)."""
    from watcher.pipeline.status import STATUS_FILE, CameraStatus, read_status

    doc = read_status(cfg.recordings_dir)
    if doc is None:
        raise CommandFailed(f"no status in {cfg.recordings_dir / STATUS_FILE}: is watcher running?")
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    written = datetime.fromisoformat(doc["written_at"])
    age = (datetime.now(UTC) - written).total_seconds()
    stale = f" - STALE ({age:.0f} s old): the daemon may not be running" if age > _STALE_S else ""
    print(f"watcher pid {doc['pid']}, status of {written.astimezone():%Y-%m-%d %H:%M:%S}{stale}")
    for item in doc["cameras"]:
        print("  " + CameraStatus(**item).line())
    return EXIT_OK


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
    from watcher.pipeline.daemon import Daemon

    engine, gallery = _faces(cfg)
    with _store(cfg) as (store, db):
        # Events a crash or power cut left open end at their clip's last frame.
        closed = recover_open_events(db, socket.gethostname(), recordings=cfg.recordings_dir)
        if closed:
            log.warning("closed %d event(s) left open by an earlier crash", closed)
        return Daemon(cfg, engine, gallery, store, db, stop=stop).run()


@guard
def db_command(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """`watcher db upgrade|current`: apply the schema migrations, or show the revision."""
    try:
        engine = make_engine(cfg.database_url)
    except (SQLAlchemyError, OSError) as exc:
        raise CommandFailed(f"database unavailable: {_one_line(exc)}") from None
    try:
        if args.db_command == "upgrade":
            print(f"database at revision {upgrade(engine)}")
        else:
            print(f"database at revision {current_revision(engine) or 'none (empty)'}")
    except (SQLAlchemyError, OSError, SchemaError) as exc:
        raise CommandFailed(f"database unavailable: {_one_line(exc)}") from None
    finally:
        engine.dispose()
    return EXIT_OK
