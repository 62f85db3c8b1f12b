"""systemd/watcher-web.service: `systemd-analyze verify` accepts it, and it is hardened
like the daemon's unit."""

from __future__ import annotations

from pathlib import Path

from tests.support.systemd import INSTALLED_BIN, INSTALLED_EXEC, assert_verify_passes
from watcher.web import bytecode

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


def test_the_page_runs_lean_from_bytecode_compiled_into_its_cache_before_each_start() -> None:
    web = service(UNIT)
    env = dict(item.split("=", 1) for item in web["Environment"])
    assert env["PYTHONOPTIMIZE"] == bytecode.OPTIMIZE
    # The compiled files go where the read-only system lets the service user write.
    cache = Path("/var/cache") / web["CacheDirectory"][0]
    assert Path(env["PYTHONPYCACHEPREFIX"]).is_relative_to(cache)
    # Written by the step before the start; its failure must not stop the page.
    assert web["ExecStartPre"] == [f"-{INSTALLED_BIN}python -P -m watcher.web.bytecode"]
    # A `watcher faces` command the page starts gets neither setting.
    child = bytecode.without_page_settings(env)
    assert set(env) - set(child) == set(bytecode.SETTINGS)
    assert child["WATCHER_CONFIG"] == env["WATCHER_CONFIG"]
