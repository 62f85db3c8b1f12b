"""`watcher web` and `watcher web passwd`: the review page, a process of its own."""

from __future__ import annotations

import argparse
import getpass
import sys

from watcher.cli.common import CommandFailed, Subparsers, command, guard
from watcher.config import WatcherConfig
from watcher.constants import EXIT_CONFIG, EXIT_OK


def register(sub: Subparsers) -> None:
    """Add `web` (serve the page) and `web passwd` to the command line."""
    web = command(sub, "web", "serve the review page (a process of its own)", web_serve)
    web.add_argument("--host", help="address to listen on (default: the config's web.host)")
    web.add_argument("--port", type=int, help="TCP port (default: the config's web.port)")
    actions = web.add_subparsers(dest="web_command", required=False)
    passwd = command(
        actions,
        "passwd",
        "set the page's password (its salted hash is stored, never the password)",
        web_passwd,
    )
    passwd.add_argument(
        "--viewer",
        action="store_true",
        help="set the viewer's password instead (looks, changes nothing); the admin's first",
    )


def web_serve(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Serve the page until stopped (exit status 2 when it must not listen there)."""
    from watcher.web.server import Refused, serve

    host = args.host or cfg.web.host
    port = cfg.web.port if args.port is None else args.port
    if not 0 < port < 65536:
        print(f"watcher: invalid port {port}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        serve(cfg, host, port)
    except Refused as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


@guard
def web_passwd(cfg: WatcherConfig, args: argparse.Namespace) -> int:
    """Ask for a password twice (or read one line from a pipe) and store its hash."""
    from watcher.web.auth import ADMIN, VIEWER, AuthError, write_credentials

    if sys.stdin.isatty():
        who = "viewer" if args.viewer else "admin"
        password = getpass.getpass(f"New {who} password for the review page: ")
        if getpass.getpass("Again: ") != password:
            raise CommandFailed("the two passwords differ; nothing changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        write_credentials(cfg.web.password_file, password, VIEWER if args.viewer else ADMIN)
    except (AuthError, OSError) as exc:
        raise CommandFailed(str(exc)) from None
    role = "viewer's" if args.viewer else "admin"
    print(f"{role} password set in {cfg.web.password_file}; restart `watcher web` to use it")
    return EXIT_OK
