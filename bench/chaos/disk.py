"""The recordings disk: a small tmpfs of its own, which the soak fills to the last byte.

Mounting needs root. Where it is refused, the recordings go to an ordinary folder and
the disk fault is left out of the soak (the report says so).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path

CHUNK = 4 << 20


class Disk:
    def __init__(self, mount: Path, size_mb: int) -> None:
        self.mount, self.size_mb = mount, size_mb
        self.mounted = False
        self.why_not = ""
        self.filler = mount / "chaos-filler.bin"

    def setup(self) -> None:
        self.teardown()
        shutil.rmtree(self.mount, ignore_errors=True)
        self.mount.mkdir(parents=True)
        done = subprocess.run(
            [
                "mount",
                "-t",
                "tmpfs",
                "-o",
                f"size={self.size_mb}m,mode=0755",
                "tmpfs",
                str(self.mount),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        self.mounted = done.returncode == 0
        if not self.mounted:
            self.why_not = done.stderr.strip() or f"mount exited with {done.returncode}"

    @property
    def kind(self) -> str:
        if self.mounted:
            return f"tmpfs of {self.size_mb} MB"
        return f"an ordinary folder (no tmpfs: {self.why_not}; no disk fault)"

    def free_bytes(self) -> int:
        st = os.statvfs(self.mount)
        return st.f_bavail * st.f_frsize

    def fill(self) -> int:
        """Write the filler until the disk refuses a byte more; the bytes written."""
        written = 0
        block = b"\0" * CHUNK
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = CHUNK
            while size >= 1:
                try:
                    written += os.write(fd, block[:size])
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    size //= 4
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def teardown(self) -> None:
        if os.path.ismount(self.mount):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(["umount", "-l", str(self.mount)], capture_output=True, timeout=30)
        self.mounted = False
