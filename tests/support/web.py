"""The review page (`watcher web`) in a process of its own, and what its tests share."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.media import ROOT
from tests.support.pipeline import FPS, Feed, make_pipeline
from watcher.pipeline.events import FinishedEvent
from watcher.store import StoreWriter
from watcher.web.bytecode import page_env

WRITER_STOP_S = 10.0  # the store writer of a test stops within this
START_S = 60.0  # the page's process starts within this
HTTP_S = 10.0  # one request
CAMERA_SECRET = "hunter2"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    host: str = "127.0.0.1",
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=HTTP_S)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def cookie_of(headers: http.client.HTTPMessage) -> str:
    """The session cookie a response set, as `name=value` for the next request."""
    (line,) = [v for k, v in headers.items() if k.lower() == "set-cookie"]
    return line.split(";", 1)[0]


def csrf_of(html: bytes) -> str:
    match = re.search(rb'name="csrf-token" content="([^"]+)"', html)
    assert match is not None, html[:500]
    return match.group(1).decode()


class Page:
    """`watcher web` running in a process of its own, stopped (bounded) at the end."""

    def __init__(self, config: Path, *args: str) -> None:
        self.port = free_port()
        # Run as systemd/watcher-web.service runs it: no docstrings, no asserts, and
        # nothing written into the compiled cache (only the bootstrap fills it).
        env = page_env(dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1"))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watcher",
                "web",
                "-c",
                str(config),
                "--port",
                str(self.port),
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self) -> Page:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read() if self.proc.stdout else ""
                raise AssertionError(f"watcher web exited {self.proc.returncode}: {out}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("watcher web did not start listening in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self.proc.stdout:
            self.proc.stdout.close()


def write_config(folder: Path, extra: str = "") -> Path:
    path = folder / "watcher.yaml"
    path.write_text(
        "known_faces_dir: known_faces\n"
        "recordings_dir: rec\n"
        "database_url: sqlite:///rec/watcher.db\n"
        f"web:\n  page_size: 50\n{extra}"
        "cameras:\n"
        f"  cam:\n    source: rtsp://admin:{CAMERA_SECRET}@10.0.0.5:554/live\n"
        "  garage:\n    source: demo\n"
    )
    return path


def record_real_event(folder: Path, writer: StoreWriter) -> FinishedEvent:
    """The real pipeline: encoded frames, a stranger for 3 s, its clip and snapshot."""
    finished: list[FinishedEvent] = []
    pipeline = make_pipeline(folder, writer, finished)  # records under folder / "rec"
    pipeline.recorder.start()
    feed = Feed(pipeline)
    for _ in range(2 * FPS):
        feed.frame(face=False)
    for _ in range(3 * FPS):
        pipeline.analyse(feed.frame(face=True))
    for _ in range(2 * FPS):
        pipeline.analyse(feed.frame(face=False))
    pipeline.end_stream()
    assert pipeline.close(60.0)
    (event,) = finished
    return event


def passwd(config: Path, password: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`watcher web passwd` on `config`, the password typed in."""
    return subprocess.run(
        [sys.executable, "-m", "watcher", "web", "passwd", "-c", str(config), *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
