"""systemd/watcher.service: `systemd-analyze verify` accepts it, and it says what matters."""

from __future__ import annotations

from pathlib import Path

from tests.support.media import ROOT
from tests.support.systemd import INSTALLED_EXEC, assert_verify_passes

UNIT = ROOT / "systemd" / "watcher.service"


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
    assert_verify_passes(UNIT, tmp_path)
    assert f"ExecStart={INSTALLED_EXEC} run" in UNIT.read_text()


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
