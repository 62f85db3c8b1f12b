"""Run one command in its own child process and measure it: CPU, wall time, peak memory.

CPU is the command's own `getrusage` (user + sys, every thread, and any of its
children it waited for), read with `os.wait4` by a tiny launcher (launch.py), so
no other process is counted and the benchmark's own memory does not leak into the
command's `ru_maxrss` (see launch.py). Peak memory is the kernel's high-water mark
`ru_maxrss` of the largest single process; when the command starts processes of
its own, the process tree is also sampled a few times a second and the peak of its
summed PSS is kept, so a multi-process watcher is not under-reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_KIB = 1024
_MIB = 1024 * 1024
LAUNCHER = Path(__file__).resolve().parent / "launch.py"


@dataclass(frozen=True)
class Measurement:
    """What one run of a command cost, and what it printed."""

    cmd: list[str]
    returncode: int
    timed_out: bool
    user_s: float
    sys_s: float
    wall_s: float
    maxrss_mb: float  # ru_maxrss: peak RSS of the largest single process of the tree
    tree_pss_mb: float  # sampled peak of the tree's summed PSS (0 when only one process ran)
    max_procs: int  # most processes seen at once in the tree
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        """User plus system CPU seconds."""
        return self.user_s + self.sys_s

    @property
    def peak_mb(self) -> float:
        """Peak memory: ru_maxrss, or the tree's summed PSS when it had several processes."""
        if self.max_procs > 1:
            return max(self.maxrss_mb, self.tree_pss_mb)
        return self.maxrss_mb

    @property
    def ok(self) -> bool:
        """Exited with status 0 within the time limit."""
        return self.returncode == 0 and not self.timed_out

    def summary(self) -> dict[str, float | int | bool]:
        """The numbers, for JSON."""
        return {
            "cpu_s": round(self.cpu_s, 3),
            "user_s": round(self.user_s, 3),
            "sys_s": round(self.sys_s, 3),
            "wall_s": round(self.wall_s, 3),
            "maxrss_mb": round(self.maxrss_mb, 1),
            "tree_pss_mb": round(self.tree_pss_mb, 1),
            "peak_mb": round(self.peak_mb, 1),
            "max_procs": self.max_procs,
            "returncode": self.returncode,
            "timed_out": self.timed_out,
        }


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (needs /proc/<pid>/task/<tid>/children)."""
    found: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
        except OSError:
            continue
        found.extend(int(p) for p in text.split())
    return found


def _tree(pid: int) -> list[int]:
    """`pid` and all its descendants that are alive now."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _pss_bytes(pid: int) -> int:
    """Proportional set size of one process (RSS when smaps_rollup is unavailable)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        key = "Pss:"
    except OSError:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
            key = "VmRSS:"
        except OSError:
            return 0
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1]) * _KIB
    return 0


class _TreeSampler(threading.Thread):
    """Counts the command's processes (the launcher's descendants); sums their PSS while
    there are several."""

    def __init__(self, pid: int, period_s: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.period_s = period_s
        self.max_procs = 1
        self.peak_bytes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.period_s):
            pids = _tree(self.pid)[1:]  # not the launcher itself
            self.max_procs = max(self.max_procs, len(pids))
            if len(pids) > 1:
                self.peak_bytes = max(self.peak_bytes, sum(_pss_bytes(p) for p in pids))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_measured(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    sample_period_s: float = 0.25,
) -> Measurement:
    """Run `cmd` to completion in a child process and measure only that process."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        result = Path(tmp) / "rusage.json"
        start = time.perf_counter()
        launcher = subprocess.Popen(
            [sys.executable, "-I", "-S", str(LAUNCHER), str(result), "--", *cmd],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,  # one process group: a timeout kills the whole tree
        )
        sampler = _TreeSampler(launcher.pid, sample_period_s)
        sampler.start()
        timed_out = threading.Event()

        def _kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(launcher.pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, _kill) if timeout_s else None
        if timer is not None:
            timer.start()
        try:
            launcher.wait()
        finally:
            if timer is not None:
                timer.cancel()
            sampler.stop()
        wall = time.perf_counter() - start
        try:
            usage = json.loads(result.read_text())
        except (OSError, ValueError):
            usage = {"returncode": launcher.returncode, "user_s": 0.0, "sys_s": 0.0, "maxrss_kb": 0}
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return Measurement(
        cmd=list(cmd),
        returncode=int(usage["returncode"]),
        timed_out=timed_out.is_set(),
        user_s=float(usage["user_s"]),
        sys_s=float(usage["sys_s"]),
        wall_s=wall,
        maxrss_mb=float(usage["maxrss_kb"]) * _KIB / _MIB,
        tree_pss_mb=sampler.peak_bytes / _MIB,
        max_procs=sampler.max_procs,
        stdout=stdout,
        stderr=stderr,
    )
