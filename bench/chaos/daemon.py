"""The real `watcher run`, started again after every kill: its lines, its life, its memory.

watcher runs from a snapshot of the committed code (`git archive HEAD watcher`), taken
at the start: other engineers edit watcher/ in this tree while the soak runs, and a
restart must not pick up half a change.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.paths import ROOT


def snapshot(dest: Path) -> str:
    """Extract watcher/ of HEAD into dest; return the commit."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", commit, "watcher"], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return commit


@dataclass
class Life:
    """One watcher process: when it started and how it ended."""

    pid: int
    started: float
    ended: float | None = None
    how: str = ""  # sigkill, sigterm, exit N
    exit_code: int | None = None
    rss: list[tuple[float, int]] = field(default_factory=list)  # (wall, kB)


class Watcher:
    """`python -m watcher run -c CONFIG` from the snapshot; every line kept with its wall time."""

    def __init__(self, code: Path, config: Path, log: Path, log_level: str) -> None:
        self.code, self.config, self.log_level = code, config, log_level
        self.log = log.open("a")
        self.lines: list[tuple[float, int, str]] = []
        self.lives: list[Life] = []
        self.proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._halt = threading.Event()
        threading.Thread(target=self._sample, name="rss", daemon=True).start()

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> Life:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("JOURNAL_STREAM", None)
        cmd = [sys.executable, "-m", "watcher", "--log-level", self.log_level]
        proc = subprocess.Popen(
            [*cmd, "run", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.code,
            env=env,
        )
        life = Life(proc.pid, time.time())
        with self._lock:
            self.proc = proc
            self.lives.append(life)
        self._note(proc.pid, f"CHAOS watcher started, pid {proc.pid}")
        threading.Thread(target=self._pump, args=(proc, proc.stderr), daemon=True).start()
        return life

    def _note(self, pid: int, text: str) -> None:
        now = time.time()
        with self._lock:
            self.lines.append((now, pid, text))
            stamp = time.strftime("%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}"
            self.log.write(f"{stamp} [{pid}] {text}\n")
            self.log.flush()

    def _pump(self, proc: subprocess.Popen[str], pipe: IO[str] | None) -> None:
        assert pipe is not None
        for line in pipe:
            self._note(proc.pid, line.rstrip("\n"))

    def signal(self, signum: int, timeout: float = 40.0) -> Life:
        """Send `signum` and reap the process (SIGKILL if it lingers past timeout)."""
        proc, life = self.proc, self.lives[-1]
        assert proc is not None
        self._note(proc.pid, f"CHAOS sending {signal.Signals(signum).name}")
        proc.send_signal(signum)
        try:
            code = proc.wait(timeout)
            life.how = signal.Signals(signum).name.lower()
        except subprocess.TimeoutExpired:
            self._note(proc.pid, f"CHAOS no exit {timeout:g} s after the signal: SIGKILL")
            proc.kill()
            code = proc.wait(10)
            life.how = f"{signal.Signals(signum).name.lower()} (hung: killed)"
        life.ended, life.exit_code = time.time(), code
        time.sleep(0.3)  # the pump reads the last lines
        self._note(proc.pid, f"CHAOS watcher exited with {code}")
        return life

    def check(self) -> bool:
        """Whether it runs; notes an unexpected exit."""
        proc, life = self.proc, self.lives[-1] if self.lives else None
        if proc is None or life is None or life.ended is not None:
            return False
        code = proc.poll()
        if code is None:
            return True
        life.ended, life.exit_code, life.how = time.time(), code, f"exit {code} (by itself)"
        self._note(proc.pid, f"CHAOS watcher exited by itself with {code}")
        return False

    def _sample(self) -> None:
        while not self._halt.wait(5.0):
            with self._lock:
                life = self.lives[-1] if self.lives else None
            if life is None or life.ended is not None:
                continue
            try:
                status = Path(f"/proc/{life.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    life.rss.append((time.time(), int(line.split()[1])))

    def close(self) -> None:
        self._halt.set()
        if self.up:
            self.signal(signal.SIGKILL)
        self.log.close()
