"""The real `watcher run` on the RTSP camera: its config, its process and its log lines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from bench.latency.loopfile import WORK
from bench.paths import OUT, ROOT

CAMERA = "door"


class DaemonProcess:
    """`watcher run`, its stderr lines time-stamped as they come and copied to a log file."""

    def __init__(self, config: Path, log: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watcher", "run", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, args=(self.proc.stderr,), daemon=True).start()

    def _pump(self, pipe: IO[str] | None) -> None:
        assert pipe is not None
        for line in pipe:
            with self._lock:
                self.lines.append((time.time(), line.rstrip("\n")))
            self.log.write(line)
            self.log.flush()

    def first(self, text: str, timeout: float) -> float:
        """Wall time of the first line containing `text`; waits at most `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for at, line in self.lines:
                    if text in line:
                        return at
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = "\n".join(line for _, line in self.lines[-20:])
        raise SystemExit(f"latency: no {text!r} from watcher within {timeout:g} s:\n{tail}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        time.sleep(0.2)
        self.log.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def write_config(url: str) -> Path:
    """Watcher's defaults, one RTSP camera, the bench gallery (the known visitor)."""
    gallery = OUT / "known_faces"
    config = WORK / "watcher.yaml"
    config.write_text(
        "# Written by bench.latency: faces and record settings are watcher's defaults.\n"
        f"known_faces_dir: {gallery}\n"
        "recordings_dir: recordings\n"
        "database_url: sqlite:///watcher.db\n"
        "log_level: INFO\n"
        "cameras:\n"
        f"  {CAMERA}:\n"
        f"    source: {url}\n"
    )
    return config
