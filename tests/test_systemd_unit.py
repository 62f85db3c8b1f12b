"""systemd/watcher.service: `systemd-analyze verify` accepts it, and it says what matters."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.media import ROOT

UNIT = ROOT / "systemd" / "watcher.service"
INSTALLED_EXEC = "/opt/watcher/.venv/bin/watcher"


def directives(text: str) -> dict[str, dict[str, list[str]]]:
    """Section -> key -> values (keys may repeat, e.g. Environment=)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            out.setdefault(section, {})
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key.strip(), []).append(value.strip())
    return out


def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found: install Debian's `systemd` package")
    # verify checks that ExecStart= exists: point it at this venv's real `watcher`.
    script = Path(sys.executable).parent / "watcher"
    assert script.is_file(), f"{script} missing: install watcher into the venv"
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED_EXEC} run" in text
    unit = tmp_path / "watcher.service"  # verify takes the unit name from the file name
    unit.write_text(text.replace(f"ExecStart={INSTALLED_EXEC}", f"ExecStart={script}"))
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    # Unknown keys are only warnings (exit 0): any line about our unit is a failure.
    ours = [line for line in done.stderr.splitlines() if "watcher.service" in line]
    assert done.returncode == 0 and not ours, done.stderr


def test_unit_runs_watcher_as_a_notify_service_with_a_watchdog() -> None:
    service = directives(UNIT.read_text())["Service"]
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "WatchdogSec": "30",
        "Restart": "on-failure",
        "RestartSec": "5",
        "RestartPreventExitStatus": "2",
        "TimeoutStopSec": "30",
        "User": "watcher",
        "Group": "watcher",
        "SupplementaryGroups": "video",
        "StateDirectory": "watcher",
        "ConfigurationDirectory": "watcher",
        "ExecStart": f"{INSTALLED_EXEC} run",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "UMask": "0027",
    }
    for key, value in expected.items():
        assert service.get(key) == [value], key
    assert "WATCHER_CONFIG=/etc/watcher/watcher.yaml" in service["Environment"]


def test_unit_is_hardened() -> None:
    service = directives(UNIT.read_text())["Service"]
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/var/lib/watcher",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "RestrictRealtime": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "SystemCallArchitectures": "native",
        "CapabilityBoundingSet": "",
        "DevicePolicy": "closed",
        "DeviceAllow": "char-video4linux rw",
    }
    for key, value in expected.items():
        assert service.get(key) == [value], key
    # PrivateDevices= would hide the USB cameras that DeviceAllow= lets through.
    assert "PrivateDevices" not in service


def test_unit_is_enabled_for_boot() -> None:
    unit = directives(UNIT.read_text())
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    assert "network-online.target" in unit["Unit"]["After"][0]
