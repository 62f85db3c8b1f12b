"""systemd/watcher-web.service: `systemd-analyze verify` accepts it, and it is hardened
like the daemon's unit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "watcher-web.service"
DAEMON = ROOT / "systemd" / "watcher.service"
INSTALLED_EXEC = "/opt/watcher/.venv/bin/watcher"
# What the page's unit may leave out of the daemon's hardening: it opens no camera.
NOT_NEEDED = {"DeviceAllow", "DevicePolicy", "SupplementaryGroups"}


def service(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_page_runs_as_its_own_service_as_hardened_as_the_daemon() -> None:
    web, daemon = service(UNIT), service(DAEMON)
    assert web["ExecStart"] == [f"{INSTALLED_EXEC} web"]
    assert web["User"] == daemon["User"] and web["UMask"] == daemon["UMask"]
    assert web["RestartPreventExitStatus"] == ["2"]  # a network address without password
    hardening = {
        key
        for key in daemon
        if key.startswith(("Protect", "Restrict", "NoNew", "Capability", "Ambient", "Private"))
        or key in ("LockPersonality", "RemoveIPC", "SystemCallArchitectures", "ReadWritePaths")
    }
    for key in hardening - NOT_NEEDED:
        if key == "RestrictAddressFamilies":
            assert set(web[key][0].split()) <= set(daemon[key][0].split())
        else:
            assert web.get(key) == daemon[key], key
    assert web["PrivateDevices"] == ["yes"]


def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found: install Debian's `systemd` package")
    script = Path(sys.executable).parent / "watcher"
    assert script.is_file(), f"{script} missing: install watcher into the venv"
    unit = tmp_path / "watcher-web.service"
    unit.write_text(UNIT.read_text().replace(f"ExecStart={INSTALLED_EXEC}", f"ExecStart={script}"))
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    ours = [line for line in done.stderr.splitlines() if "watcher-web.service" in line]
    assert done.returncode == 0 and not ours, done.stderr
