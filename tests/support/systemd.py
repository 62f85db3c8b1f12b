"""The shipped systemd units under `systemd-analyze verify`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INSTALLED_BIN = "/opt/watcher/.venv/bin/"  # where the units' programs are installed
INSTALLED_EXEC = f"{INSTALLED_BIN}watcher"  # the units' ExecStart= program


def assert_verify_passes(unit: Path, tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts `unit` (skipped without systemd-analyze)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found: install Debian's `systemd` package")
    # verify checks that the Exec*= programs exist: point them at this venv's.
    script = Path(sys.executable).parent / "watcher"
    assert script.is_file(), f"{script} missing: install watcher into the venv"
    copy = tmp_path / unit.name  # verify takes the unit name from the file name
    copy.write_text(unit.read_text().replace(INSTALLED_BIN, f"{script.parent}/"))
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    # Unknown keys are only warnings (exit 0): any line about our unit is a failure.
    ours = [line for line in done.stderr.splitlines() if unit.name in line]
    assert done.returncode == 0 and not ours, done.stderr
