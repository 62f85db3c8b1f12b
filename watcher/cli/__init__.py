"""The `watcher` command: one module per command group, each registering its handlers."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from watcher import __version__
from watcher.constants import EXIT_CONFIG, EXIT_FAILURE
from watcher.log import setup_logging

log = logging.getLogger("watcher")

# Clips, snapshots, face crops, the database (strangers' face embeddings), the
# status file and the gallery are personal data. Under a login's usual umask 022
# they would be world-readable; only the systemd unit's UMask=0027 protected them.
PRIVATE_UMASK = 0o027
DESCRIPTION = "A camera daemon that records a clip only when a face it does not know appears."


def private_umask() -> None:
    """Make everything this process creates at most 0640 (files) and 0750 (folders).

    The umask is process-wide, so this covers every writer at once (SQLite and its
    -wal/-shm, FFmpeg's clips, OpenCV's pictures, the gallery). A stricter umask
    the user chose (077) is kept.
    """
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


@contextmanager
def _start_up() -> Iterator[None]:
    """No cyclic garbage collection while the command line and config load, then none of
    what they loaded: it lives as long as the process.

    Loading SQLAlchemy, pydantic and the config makes some 100,000 objects and next to
    no garbage (a thousand objects), yet the collector walked them all again and again:
    30 ms of the 0.3 s `watcher events list` takes. gc.freeze() leaves them out of every
    later collection (the page and the daemon gain that too); what they free is still
    freed at once by reference counting, as ever.
    """
    if not gc.isenabled():  # the caller chose to run without it: leave that be
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _parser() -> argparse.ArgumentParser:
    from watcher.cli import check, daemon, database, faces, notify, replay, web

    parser = argparse.ArgumentParser(prog="watcher", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default: the config's)")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (daemon, check, replay, faces, database, notify, web):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `watcher` console script."""
    with _start_up():
        args = _parser().parse_args(argv)
        private_umask()  # before any command creates a file
        # Here, as the command modules in _parser: pydantic and SQLAlchemy load in _start_up.
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
