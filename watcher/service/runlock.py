"""One `watcher run` per recordings folder: an exclusive lock on a file holding its pid.

Two daemons on one config record every visit twice, and the second one's start-up
recovery closes the first one's live event as interrupted. `watcher run` takes
this lock before anything else; a second one exits naming the first one's pid.

The lock is flock(2) on recordings/watcher.lock: the kernel drops it when the
process ends however it ends, so a crash or SIGKILL never leaves a stale lock
(the file stays, its pid is only information).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Final

LOCK_NAME: Final = "watcher.lock"
_PID_WAIT_S: Final = 1.0  # the holder writes its pid just after taking the lock


class AlreadyRunning(RuntimeError):
    """Another process holds the lock; `pid` is its process id when it could be read."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(f"another watcher is already running on {path.parent} ({who})")


class RunLock:
    """The held lock; release() (or the process ending) lets the next daemon start."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Clear the pid and drop the lock. The file is not removed: removing it would
        let a third process lock a new file while a second holds the old one."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the only descriptor drops the flock

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def acquire(folder: Path) -> RunLock:
    """Lock `folder` (created if missing) for this process, or raise AlreadyRunning.

    OSError when the lock file cannot be made at all (the folder cannot be created).
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o750)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _holder(fd)
        os.close(fd)
        raise AlreadyRunning(path, pid) from None
    except BaseException:
        os.close(fd)
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, only the pid is not shown
    return RunLock(path, fd)


def _holder(fd: int) -> int | None:
    """The pid the holder wrote; it may be a moment behind taking the lock."""
    deadline = time.monotonic() + _PID_WAIT_S
    while True:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return int(text)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
