"""`watcher replay VIDEO`: the daemon's pipeline over a file, as fast as it goes; JSON out."""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack
from pathlib import Path

from watcher.cli.common import (
    CommandFailed,
    Subparsers,
    command,
    faces_and_gallery,
    guard,
    print_json,
    store,
)
from watcher.cli.startup import start_up
from watcher.config import CameraConfig, WatcherConfig
from watcher.constants import EXIT_OK

log = logging.getLogger("watcher")


def register(sub: Subparsers) -> None:
    """Add `replay` to the command line."""
    parser = command(sub, "replay", "run the pipeline over a video file; print JSON", replay)
    parser.add_argument("video", type=Path)
    parser.add_argument("--camera", help="whose settings to use (default: the first camera)")


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
    camera = _pick_camera(cfg, args.camera)
    if not args.video.is_file():
        raise CommandFailed(f"{args.video}: no such video file")
    with ExitStack() as stack:
        with start_up():  # the pipeline's libraries, the models, the gallery, the database
            from watcher.pipeline.replay import replay as run_replay
            from watcher.progress import ProgressBar
            from watcher.source.base import SourceError

            engine, gallery = faces_and_gallery(cfg)
            writer, _db = stack.enter_context(store(cfg))
        bar = ProgressBar(sys.stderr, label=args.video.name)
        try:
            doc = run_replay(cfg, camera, args.video, engine, gallery, writer, progress=bar.update)
        except SourceError as exc:
            raise CommandFailed(str(exc)) from None
        finally:
            bar.done()
        if not writer.flush():
            log.error("some database writes did not complete in time")
    print_json(doc)
    return EXIT_OK
