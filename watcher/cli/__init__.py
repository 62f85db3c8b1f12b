"""The `watcher` command: one module per command group, each registering its handlers."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Final

from watcher import __version__
from watcher.cli.startup import start_up
from watcher.constants import EXIT_CONFIG, EXIT_FAILURE
from watcher.log import setup_logging

log = logging.getLogger("watcher")

# Clips, snapshots, face crops, the database (strangers' face embeddings), the
# status file and the gallery are personal data. Under a login's usual umask 022
# they would be world-readable; only the systemd unit's UMask=0027 protected them.
PRIVATE_UMASK = 0o027
DESCRIPTION = "A camera daemon that records a clip only when a face it does not know appears."
# Which module registers which command, in `watcher --help`'s order: `watcher events list`
# imports and builds only its own part (3-8 ms less).
_REGISTERED_BY: Final = {
    "run": "daemon",
    "status": "daemon",
    "check-config": "check",
    "replay": "replay",
    "faces": "faces",
    "db": "database",
    "events": "database",
    "notify": "notify",
    "web": "web",
}
_MODULES: Final = tuple(dict.fromkeys(_REGISTERED_BY.values()))  # each once, in order


def private_umask() -> None:
    """Make everything this process creates at most 0640 (files) and 0750 (folders).

    The umask is process-wide, so this covers every writer at once (SQLite and its
    -wal/-shm, FFmpeg's clips, OpenCV's pictures, the gallery). A stricter umask
    the user chose (077) is kept.
    """
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


# Libraries that split one call across the cores, each set to one thread (unless the
# user chose otherwise): watcher's parallelism is a thread per camera, and the work
# these split is too small to share - OpenCV's on a 120-pixel-high motion frame,
# OpenBLAS's on 128-d embeddings - so their worker threads mostly spun waiting for the
# next call (measured: `watcher replay` of the bench's visitors, 3.67 -> 3.12 CPU-s,
# median of 7, the same frames analysed and the same events). Read when the libraries
# load, so set before the commands import them.
SINGLE_THREADED: Final = ("OPENCV_FOR_THREADS_NUM", "OPENBLAS_NUM_THREADS")


def single_threaded_libraries() -> None:
    """Make OpenCV and OpenBLAS (numpy) work in the calling thread, unless set already."""
    for name in SINGLE_THREADED:
        os.environ.setdefault(name, "1")


def _command_of(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word that is no option), None for help or none."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return None
        if word == "--log-level":
            next(words, None)  # its value
        elif not word.startswith("-"):
            return word if word in _REGISTERED_BY else None
    return None


def _parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The command line; for a known command only its module's part (help gets them all)."""
    command = _command_of(argv)
    names = (_REGISTERED_BY[command],) if command is not None else _MODULES
    parser = argparse.ArgumentParser(prog="watcher", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default: the config's)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in names:
        importlib.import_module(f"watcher.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `watcher` console script."""
    single_threaded_libraries()  # before any command module loads numpy or OpenCV
    with start_up():
        args = _parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
        private_umask()  # before any command creates a file
        # Here, as the command modules in _parser: pydantic and SQLAlchemy load in start_up.
        from watcher.config import ConfigError, load_config

        try:
            cfg = load_config(getattr(args, "config", None))
        except ConfigError as exc:
            setup_logging(args.log_level or "INFO")
            print(f"watcher: invalid config:\n{exc}", file=sys.stderr)
            return EXIT_CONFIG
    setup_logging(args.log_level or cfg.log_level)
    try:
        return int(args.handler(cfg, args))
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
