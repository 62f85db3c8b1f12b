"""systemd/watcher-web.service: `systemd-analyze verify` accepts it, and it is hardened
like the daemon's unit."""

from __future__ import annotations

from pathlib import Path

from tests.support.systemd import INSTALLED_EXEC, assert_verify_passes

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "watcher-web.service"
DAEMON = ROOT / "systemd" / "watcher.service"
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
    assert_verify_passes(UNIT, tmp_path)
