"""What every command shares: one-line failures, JSON output, the engine, the database."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from watcher.config import WatcherConfig
from watcher.constants import EXIT_FAILURE

# Every command imports this module, so it names the heavy layers for the type checker
# only: the engine (numpy, OpenCV, dlib), the gallery and the store are imported by
# the functions that use them, and `events list` or `watcher web` never load OpenCV.
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from watcher.core import FaceEngine
    from watcher.faces.gallery import Gallery
    from watcher.store import StoreWriter

Handler = Callable[[WatcherConfig, argparse.Namespace], int]
Subparsers = argparse._SubParsersAction  # argparse's own type for add_subparsers()


def command(
    sub: Subparsers, name: str, help_text: str, handler: Handler
) -> argparse.ArgumentParser:
    """A (sub)command that reads the config (`-c`) and runs `handler`."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        help="config file (default: $WATCHER_CONFIG or config/watcher.yaml)",
    )
    parser.set_defaults(handler=handler)
    return parser


def group(sub: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command with subcommands of its own (`watcher faces ...`)."""
    parser = sub.add_parser(name, help=help_text)
    return parser.add_subparsers(dest=f"{name}_command", required=True)


class CommandFailed(RuntimeError):
    """A command cannot go on; its message is the one line the user sees."""


def guard(func: Handler) -> Handler:
    """Turn a CommandFailed into one line on stderr and exit status 1."""

    def wrapper(cfg: WatcherConfig, args: argparse.Namespace) -> int:
        try:
            return int(func(cfg, args))
        except CommandFailed as exc:
            print(f"watcher: {exc}", file=sys.stderr)
            return EXIT_FAILURE

    wrapper.__doc__ = func.__doc__
    return wrapper


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (or its type)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def face_engine(folder: Path, detectors: int = 1) -> FaceEngine:
    """The face engine (a pool of `detectors`), or CommandFailed when its models are missing."""
    from watcher.faces import ModelsMissing, open_engine
    from watcher.faces.cache import cache_dir

    try:
        return open_engine(cache_dir(folder), detectors)
    except ModelsMissing as exc:
        raise CommandFailed(str(exc)) from None


def faces_and_gallery(cfg: WatcherConfig, detectors: int = 1) -> tuple[FaceEngine, Gallery]:
    """The engine and the gallery it loaded from known_faces/."""
    from watcher.faces.gallery import load_gallery

    engine = face_engine(cfg.known_faces_dir, detectors)
    return engine, load_gallery(engine, cfg.known_faces_dir)


@contextmanager
def database(cfg: WatcherConfig, *, write: bool) -> Iterator[Engine | None]:
    """The events database, the one way commands open it.

    `write`: migrated to this watcher's schema first (folders made as needed), as the
    daemon does. Read-only: never migrated, no folder made; None when there is no
    database yet, and a clear failure when it is older than this watcher.
    """
    if not write and missing_database(cfg):
        yield None  # before importing the store: its tables are 15 ms of `events list`
        return
    from watcher.store import SchemaError, current_revision, init_db, make_engine
    from watcher.store.schema import HEAD_REVISION

    try:
        engine = make_engine(cfg.database_url)
    except (SQLAlchemyError, OSError) as exc:
        raise CommandFailed(f"database unavailable: {one_line(exc)}") from None
    try:
        if write:
            init_db(engine)
        else:
            revision = current_revision(engine)
            if revision is not None and revision != HEAD_REVISION:
                raise CommandFailed(
                    f"the database is at schema revision {revision}, this watcher needs "
                    f"{HEAD_REVISION}: start the daemon or run `watcher db upgrade` first"
                )
        yield engine
    except (SQLAlchemyError, OSError, SchemaError) as exc:
        raise CommandFailed(f"database unavailable: {one_line(exc)}") from None
    finally:
        engine.dispose()


@contextmanager
def store(cfg: WatcherConfig) -> Iterator[tuple[StoreWriter, Engine]]:
    """The migrated database and its one writer thread (stopped on the way out)."""
    from watcher.store import StoreWriter

    with database(cfg, write=True) as engine:
        assert engine is not None
        writer = StoreWriter(engine).start()
        try:
            yield writer, engine
        finally:
            writer.stop()


def missing_database(cfg: WatcherConfig) -> bool:
    """Whether the database is an SQLite file that does not exist (yet)."""
    parsed = make_url(cfg.database_url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return False
    return not Path(parsed.database).expanduser().exists()
