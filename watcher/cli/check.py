"""`watcher check-config`: validate the config and summarise it."""

from __future__ import annotations

import argparse
import sys

from watcher.cli.common import Subparsers, command, faces_and_gallery, guard
from watcher.config import WatcherConfig, summary
from watcher.constants import EXIT_CONFIG, EXIT_OK


def register(sub: Subparsers) -> None:
    """Add `check-config` to the command line."""
    command(sub, "check-config", "validate the config and summarise it", check_config)


@guard
def check_config(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Print a one-screen summary: cameras, known people and their image counts."""
    _, gallery = faces_and_gallery(cfg)
    print(summary(cfg))
    people = gallery.people
    images, rejected = len(gallery.names), len(gallery.rejected)
    print(f"known people: {len(people)} ({images} images, {rejected} rejected)")
    for name, count in people.items():
        print(f"  {name}: {count} image{'s' if count != 1 else ''}")
    for item in gallery.rejected:
        print(f"  rejected {item.path}: {item.reason}")
    from watcher.notify import config_problems, describe

    print(describe(cfg))
    problems = config_problems(cfg)
    if problems:
        print("watcher: invalid config:\n" + "\n".join(problems), file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK
