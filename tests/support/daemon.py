"""A real `watcher run` process for tests: start it, wait for log lines, stop it, all bounded;
the log lines and `events list` rows the tests read from it."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from tests.support.cli import watcher
from tests.support.media import ROOT, playable_seconds


class Daemon:
    """`watcher run -c CONFIG` in a subprocess; its stderr lines are collected as they come."""

    def __init__(self, config: Path, *extra: str) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watcher", *extra, "run", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float, since: int = 0) -> re.Match[str]:
        """Wait for a log line (from line `since` on) matching `pattern`, at most `timeout` s."""
        regex = re.compile(pattern)
        for line in self.lines[since:]:
            if m := regex.search(line):
                return m
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=min(left, 1.0))
            except queue.Empty:
                if self.proc.poll() is not None and self._queue.empty():
                    break  # it died: waiting longer cannot help
                continue
            self.lines.append(line)
            if m := regex.search(line):
                return m
        log = "\n".join(self.lines[-40:])
        state = f"exited with {self.proc.returncode}" if self.proc.poll() is not None else "running"
        raise AssertionError(
            f"no log line matching {pattern!r} within {timeout} s (watcher {state}):\n{log}"
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send `sig` and return the exit status; kill it if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"watcher did not exit within {timeout} s of {sig}") from None
        self._drain()
        return code

    def _drain(self) -> None:
        time.sleep(0.1)
        while True:
            try:
                self.lines.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


EVENT_OPENED = r"event (\w+): unknown face at ([\d.]+) s, recording"
EVENT_ENDED = r"event {id}: ended after"
CONNECTED = r"watcher\.capture\.{cam}: connected to rtsp://"
ENDED = r"watcher\.camera\.{cam}: event {id}: ended after ([\d.]+) s \((\w+)\)"


def new_event(cam: str = "cam", *not_ids: str) -> str:
    """EVENT_OPENED on camera `cam`, for an id other than `not_ids`."""
    exclude = "".join(f"(?!{i})" for i in not_ids)
    return rf"watcher\.camera\.{cam}: event {exclude}(\w+): unknown face at ([\d.]+) s, recording"


def events(config: Path) -> list[dict[str, object]]:
    """The events in the config's database, via the real CLI."""
    done = watcher("events", "list", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def wall(value: object) -> datetime:
    """An ISO 8601 time from `events list --json` (always with a zone)."""
    assert isinstance(value, str), value
    at = datetime.fromisoformat(value)
    assert at.tzinfo is not None, value
    return at


def check_playable(row: dict[str, object], at_least_s: float) -> float:
    """The event's clip decodes from its first frame to its last; its length in seconds."""
    clip = row["clip"]
    assert isinstance(clip, str) and Path(clip).is_file(), row
    seconds = playable_seconds(clip)
    assert seconds >= at_least_s, f"{clip}: {seconds:.2f} s"
    return seconds
