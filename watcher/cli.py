"""The `watcher` command: thin argument parsing over the pipeline, store and config."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from watcher import __version__
from watcher.config import ConfigError, load_config
from watcher.constants import EXIT_CONFIG, EXIT_FAILURE
from watcher.log import setup_logging

log = logging.getLogger("watcher")

# Clips, snapshots, face crops, the database (strangers' face embeddings), the
# status file and the gallery are personal data. Under a login's usual umask 022
# they would be world-readable; only the systemd unit's UMask=0027 protected them.
PRIVATE_UMASK = 0o027


def private_umask() -> None:
    """Make everything this process creates at most 0640 (files) and 0750 (folders).

    The umask is process-wide, so this covers every writer at once (SQLite and its
    -wal/-shm, FFmpeg's clips, OpenCV's pictures, the gallery). A stricter umask
    the user chose (077) is kept.
    """
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="watcher", description=__doc__)
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default: the config's)")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "-c",
            "--config",
            type=Path,
            help="config file (default: $WATCHER_CONFIG or config/watcher.yaml)",
        )
        return p

    with_config(sub.add_parser("run", help="watch the configured cameras (the daemon)"))
    with_config(sub.add_parser("check-config", help="validate the config and summarise it"))
    status = with_config(sub.add_parser("status", help="what each camera of the daemon is doing"))
    status.add_argument("--json", action="store_true", help="the status document as JSON")
    replay = with_config(
        sub.add_parser("replay", help="run the pipeline over a video file; print JSON")
    )
    replay.add_argument("video", type=Path)
    replay.add_argument("--camera", help="whose settings to use (default: the first camera)")
    faces = sub.add_parser("faces", help="manage the gallery of known people")
    faces_sub = faces.add_subparsers(dest="faces_command", required=True)
    listing = with_config(faces_sub.add_parser("list", help="people, image counts, rejections"))
    listing.add_argument("--json", action="store_true")
    add = with_config(
        faces_sub.add_parser(
            "add", help="check photos (or short videos of one person) and add them to a person"
        )
    )
    add.add_argument("name")
    add.add_argument(
        "images", nargs="+", type=Path, help="photos, or videos: a handful of good looks each"
    )
    forget = with_config(
        faces_sub.add_parser("forget-learned", help="delete the looks learned of a person")
    )
    forget.add_argument("name")
    rm = with_config(faces_sub.add_parser("remove", help="remove a person, or one of their images"))
    rm.add_argument("name")
    rm.add_argument("image", nargs="?")
    check = with_config(faces_sub.add_parser("check", help="a gallery quality report"))
    check.add_argument("--json", action="store_true")
    unknown = with_config(
        faces_sub.add_parser("unknown", help="unknown visitors, grouped across events")
    )
    unknown.add_argument("--json", action="store_true")
    name = with_config(faces_sub.add_parser("name", help="make an unknown identity a known person"))
    name.add_argument("label", help="as listed by `watcher faces unknown`, e.g. unknown-7")
    name.add_argument("name", help="the person's name (their folder in known_faces)")
    name.add_argument(
        "--photos", type=int, default=3, help="most crops to add to the gallery (default: 3)"
    )
    db = sub.add_parser("db", help="the events database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    with_config(db_sub.add_parser("upgrade", help="apply the schema migrations"))
    with_config(db_sub.add_parser("current", help="show the schema revision"))
    events = sub.add_parser("events", help="recorded events")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    ev_list = with_config(events_sub.add_parser("list", help="list events, newest first"))
    ev_list.add_argument("--json", action="store_true", help="one JSON array on stdout")
    ev_list.add_argument("--camera")
    ev_list.add_argument("--since", type=_iso_datetime, help="ISO 8601 date or time")
    ev_list.add_argument("--limit", type=int)
    return parser


def _iso_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {text!r}") from None
    return value if value.tzinfo else value.astimezone()  # naive means local time


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `watcher` console script."""
    args = _parser().parse_args(argv)
    private_umask()  # before any command creates a file
    try:
        cfg = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        setup_logging(args.log_level or "INFO")
        print(f"watcher: invalid config:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(args.log_level or cfg.log_level)
    # Heavy imports (dlib, PyAV) only once the config is known to be good.
    from watcher import commands, faces_commands

    handlers = {
        "run": commands.run,
        "check-config": commands.check_config,
        "status": commands.status,
        "replay": commands.replay,
        "events": commands.events_list,
        "faces": faces_commands.faces,
        "db": commands.db_command,
    }
    try:
        return handlers[args.command](cfg, args)
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
