"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temp cluster, loopback only.

`postgres_server()` finds `initdb`/`pg_ctl` under /usr/lib/postgresql, makes a
cluster in a temp folder owned by an unprivileged user (initdb refuses root),
starts it on a free 127.0.0.1 port with its sockets in that folder, and stops
and removes it afterwards. Every step is bounded in time. Where PostgreSQL is
not installed or does not start, the test is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.services import skip_unless_required

PG_USER = "watcher"  # the cluster's superuser, trusted on loopback
RUN_AS = "postgres"  # Debian's package creates this user; used when we are root
STEP_TIMEOUT_S = 60
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30
INSTALL_HINT = "install Debian's postgresql package (apt-get install postgresql)"


@dataclass(frozen=True)
class PgServer:
    """A running throwaway server."""

    host: str
    port: int
    user: str
    socket_dir: Path

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, prefix: str = "watcher") -> str:
        """Create a new empty database and return its URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        dsn = f"host={self.host} port={self.port} user={self.user} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=STEP_TIMEOUT_S) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _version(initdb: str) -> int:
    """The major version in /usr/lib/postgresql/<version>/bin/initdb (0 if not a number)."""
    name = Path(initdb).parent.parent.name
    return int(name) if name.isdigit() else 0


def _binaries() -> Path | None:
    """The bin folder of the newest PostgreSQL installed the Debian way."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _as_owner(command: list[str]) -> list[str]:
    """Run as the unprivileged `postgres` user when we are root."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", RUN_AS, "--", *command]
    return ["su", RUN_AS, "-s", "/bin/sh", "-c", shlex.join(command)]


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_owner(command),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _owner_ok() -> str | None:
    """Why we cannot run PostgreSQL as an unprivileged user, or None when we can."""
    if os.geteuid() != 0:
        return None
    try:
        import pwd

        pwd.getpwnam(RUN_AS)
    except KeyError:
        return f"running as root and there is no {RUN_AS!r} user to run PostgreSQL; {INSTALL_HINT}"
    return None


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _kill_postmaster(data: Path) -> None:
    """Last resort when pg_ctl stop did not finish: signal our own postmaster by its pid."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # raises once it is gone
            time.sleep(0.1)


@contextlib.contextmanager
def postgres_server() -> Iterator[PgServer]:
    """Start a throwaway server for the duration of the block; skip if PostgreSQL is missing."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_unless_required("psycopg is not installed: pip install -e '.[test]'")
    bin_dir = _binaries()
    if bin_dir is None:
        skip_unless_required(
            f"PostgreSQL not found (/usr/lib/postgresql/*/bin/initdb): {INSTALL_HINT}"
        )
    problem = _owner_ok()
    if problem:
        skip_unless_required(problem)
    root = Path(tempfile.mkdtemp(prefix="watcher-pg-"))
    data, log_file = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, user=RUN_AS)
    started = False
    try:
        init = _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                PG_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            STEP_TIMEOUT_S,
        )
        if init.returncode != 0:
            skip_unless_required(f"PostgreSQL initdb failed: {init.stderr.strip()[-400:]}")
        for _attempt in range(3):  # a free port may be taken before the server binds it
            port = _free_port()
            options = (
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c full_page_writes=off"
            )
            start = _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "start",
                ],
                START_TIMEOUT_S + 10,
            )
            if start.returncode == 0:
                started = True
                break
        if not started:
            skip_unless_required(f"PostgreSQL did not start: {_tail(log_file)}")
        yield PgServer(host="127.0.0.1", port=port, user=PG_USER, socket_dir=root)
    finally:
        if started:
            try:
                stop = _run(
                    [
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        str(STOP_TIMEOUT_S),
                        "stop",
                    ],
                    STOP_TIMEOUT_S + 10,
                )
                if stop.returncode != 0:
                    _kill_postmaster(data)
            except subprocess.TimeoutExpired:
                _kill_postmaster(data)
        shutil.rmtree(root, ignore_errors=True)
