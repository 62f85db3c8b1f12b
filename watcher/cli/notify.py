"""`watcher notify status`: the notifications outbox, what is pending and what failed."""

from __future__ import annotations

import argparse

from watcher.cli.common import Subparsers, command, database, group, guard, print_json
from watcher.config import WatcherConfig
from watcher.constants import EXIT_OK


def register(sub: Subparsers) -> None:
    """Add `notify` to the command line."""
    notify = group(sub, "notify", "MQTT and webhook notifications")
    status = command(notify, "status", "show pending and failed notifications", notify_status)
    status.add_argument("--json", action="store_true", help="one JSON array on stdout")


@guard
def notify_status(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Pending and failed messages per target (read only: nothing is migrated or created)."""
    from watcher.notify import outbox_status

    with database(cfg, write=False) as engine:
        rows = [] if engine is None else outbox_status(cfg, engine)
    if args.json:
        print_json(
            [
                {
                    "target": r.name,
                    "pending": r.pending,
                    "failed": r.failed,
                    "oldest_pending": r.oldest_pending.isoformat() if r.oldest_pending else None,
                    "last_error": r.last_error,
                }
                for r in rows
            ]
        )
        return EXIT_OK
    if not rows:
        print("no notification targets configured (mqtt, webhooks) and nothing in the outbox")
    for r in rows:
        since = (
            f", oldest since {r.oldest_pending.astimezone():%Y-%m-%d %H:%M:%S}"
            if r.oldest_pending
            else ""
        )
        error = f"; last error: {r.last_error}" if r.last_error else ""
        print(f"{r.name}: {r.pending} pending{since}, {r.failed} failed{error}")
    return EXIT_OK
