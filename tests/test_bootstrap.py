"""The bootstrap's pure parts (.ci/bootstrap.py); nothing here runs apt, pip or venv."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP_FILE = ROOT / ".ci" / "bootstrap.py"
README_COMMAND = re.compile(r"^python3 \S*bootstrap\S* (\w+)$", re.MULTILINE)


def _load_bootstrap() -> ModuleType:
    """The script as a module: it is no part of the `watcher` package, so not importable."""
    spec = importlib.util.spec_from_file_location("ci_bootstrap", BOOTSTRAP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bootstrap = _load_bootstrap()


def test_imports_only_the_standard_library() -> None:
    tree = ast.parse(BOOTSTRAP_FILE.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports would pull in watcher's own modules"
            modules.add(node.module or "")
    tops = {name.split(".")[0] for name in modules}
    assert tops - sys.stdlib_module_names - {"__future__"} == set()


def test_root_is_the_repository() -> None:
    assert bootstrap.ROOT == ROOT
    assert (bootstrap.ROOT / "pyproject.toml").is_file()
    assert (bootstrap.ROOT / ".ci" / "bootstrap.py").is_file()


def test_tooling_is_not_in_the_package() -> None:
    # The wheel holds `watcher*` only: no set-up script, and no dev tool in its metadata.
    assert not (ROOT / "watcher" / "bootstrap.py").exists()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"].get("optional-dependencies", {})
    shipped = " ".join(req for reqs in extras.values() for req in reqs)
    for tool in ("pytest", "ruff", "mypy"):
        assert tool not in shipped
        assert any(req.startswith(tool) for req in pyproject["dependency-groups"]["dev"])
    assert set(bootstrap.TEST_INSTALL.extras) <= set(extras)
    assert set(bootstrap.TEST_INSTALL.groups) <= set(pyproject["dependency-groups"])
    assert set(bootstrap.DEMO_INSTALL.extras) <= set(extras)


def test_never_installs_browsers() -> None:
    # No download outside the package registries: browser builds are not fetched.
    assert "playwright" not in BOOTSTRAP_FILE.read_text(encoding="utf-8").replace(
        "`playwright install` is not run", ""
    )


@pytest.mark.parametrize(
    ("status", "installed"),
    [
        ("install ok installed", True),
        ("hold ok installed", True),
        ("deinstall ok config-files", False),
        ("install ok half-installed", False),
        ("install ok unpacked", False),
        ("unknown ok not-installed", False),
        ("", False),
    ],
)
def test_dpkg_status_parsing(status: str, installed: bool) -> None:
    assert bootstrap.is_installed_status(status) is installed


def test_missing_packages_keeps_order_and_counts_unknown_as_missing() -> None:
    statuses = {
        "ffmpeg": "install ok installed",
        "libgl1": "deinstall ok config-files",
        "python3-venv": None,
        "zstd": "install ok installed",
    }
    missing = bootstrap.missing_packages(statuses, statuses.get)
    assert missing == ["libgl1", "python3-venv"]


def test_no_apt_packages_means_no_apt_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("must not be called")

    monkeypatch.setattr(bootstrap, "missing_packages", forbidden)
    monkeypatch.setattr(bootstrap, "apt_install", forbidden)
    bootstrap.ensure_apt_packages(())


def test_missing_apt_packages_without_root_only_warn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def forbidden(packages: Sequence[str]) -> None:
        raise AssertionError("must not install")

    monkeypatch.setattr(bootstrap.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(bootstrap, "missing_packages", lambda packages: list(packages))
    monkeypatch.setattr(bootstrap, "can_use_apt", lambda: False)
    monkeypatch.setattr(bootstrap, "apt_install", forbidden)
    bootstrap.ensure_apt_packages(("libfoo1",))
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "warning" in err and "libfoo1" in err


def test_stamp_digest_depends_on_pyproject_python_and_install() -> None:
    base = bootstrap.stamp_digest(b"[project]\n", "3.11.7", "pip install -e '.[demo]'")
    assert len(base) == 64
    assert base == bootstrap.stamp_digest(b"[project]\n", "3.11.7", "pip install -e '.[demo]'")
    assert base != bootstrap.stamp_digest(
        b"[project]\nx = 1\n", "3.11.7", "pip install -e '.[demo]'"
    )
    assert base != bootstrap.stamp_digest(b"[project]\n", "3.12.1", "pip install -e '.[demo]'")
    assert base != bootstrap.stamp_digest(b"[project]\n", "3.11.7", "pip install -e '.'")


def test_pip_commands_upgrade_pip_only_for_groups(tmp_path: Path) -> None:
    python = str(tmp_path / "bin" / "python")
    pip = [python, "-m", "pip", "install", *bootstrap.PIP_FLAGS]
    assert bootstrap.pip_commands(tmp_path, bootstrap.DEMO_INSTALL) == [[*pip, "-e", ".[demo]"]]
    assert bootstrap.pip_commands(tmp_path, bootstrap.TEST_INSTALL) == [
        [*pip, "pip>=25.1"],
        [*pip, "-e", ".[demo,postgres,push]", "--group", "dev"],
    ]
    assert bootstrap.TEST_INSTALL.describe() == (
        "pip install -e '.[demo,postgres,push]' --group dev"
    )


def test_stamp_round_trip(tmp_path: Path) -> None:
    stamp = bootstrap.stamp_path(tmp_path, "test")
    assert stamp == tmp_path / ".watcher-test.stamp"
    digest = bootstrap.stamp_digest(b"x", "3.11.7")
    assert not bootstrap.stamp_is_current(stamp, digest)
    bootstrap.write_stamp(stamp, digest)
    assert bootstrap.stamp_is_current(stamp, digest)
    assert not bootstrap.stamp_is_current(stamp, bootstrap.stamp_digest(b"y", "3.11.7"))
    assert not bootstrap.stamp_is_current(bootstrap.stamp_path(tmp_path, "demo"), digest)
    assert [p.name for p in tmp_path.iterdir()] == [stamp.name]


def test_current_digest_follows_pyproject_and_venv_python(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    venv.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    assert bootstrap.venv_python_version(venv) == "3.11.7"
    first = bootstrap.current_digest(tmp_path, venv)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.12.3.final.0\n")
    assert bootstrap.venv_python_version(venv) == "3.12.3.final.0"
    second = bootstrap.current_digest(tmp_path, venv)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'y'\n")
    third = bootstrap.current_digest(tmp_path, venv)
    assert len({first, second, third}) == 3


def test_install_is_skipped_when_the_stamp_is_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip must not run")

    venv = tmp_path / ".venv"
    venv.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    install = bootstrap.TEST_INSTALL
    bootstrap.write_stamp(
        bootstrap.stamp_path(venv, install.name),
        bootstrap.current_digest(tmp_path, venv, install.describe()),
    )
    monkeypatch.setattr(bootstrap.subprocess, "run", forbidden)
    bootstrap.ensure_installed(tmp_path, venv, install)


def test_install_runs_pip_then_stamps_and_stops_at_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / ".venv"
    venv.mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    ran: list[list[str]] = []
    status = {"code": 0}

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert kwargs["cwd"] == tmp_path
        ran.append(command)
        return subprocess.CompletedProcess(command, status["code"])

    monkeypatch.setattr(bootstrap.subprocess, "run", fake_run)
    status["code"] = 1
    with pytest.raises(
        bootstrap.BootstrapError, match=re.escape("`pip install pip>=25.1` failed")
    ) as caught:
        bootstrap.ensure_installed(tmp_path, venv, bootstrap.TEST_INSTALL)
    assert caught.value.status == 1 and len(ran) == 1  # the editable install never started
    assert not bootstrap.stamp_path(venv, "test").exists()
    status["code"] = 0
    ran.clear()
    bootstrap.ensure_installed(tmp_path, venv, bootstrap.TEST_INSTALL)
    assert ran == bootstrap.pip_commands(venv, bootstrap.TEST_INSTALL)
    ran.clear()
    bootstrap.ensure_installed(tmp_path, venv, bootstrap.TEST_INSTALL)  # stamped: nothing runs
    assert ran == []


def test_venv_ok_needs_config_python_and_pip(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    assert not bootstrap.venv_ok(venv)
    (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    (venv / "bin" / "python").symlink_to(sys.executable)
    # What a failed `python3 -m venv` leaves on Debian without python3-venv.
    assert not bootstrap.venv_ok(venv)
    (venv / "bin" / "pip").write_text("#!/bin/sh\n")
    assert bootstrap.venv_ok(venv)
    (venv / "bin" / "python").unlink()
    (venv / "bin" / "python").symlink_to(tmp_path / "gone")  # the interpreter was removed
    assert not bootstrap.venv_ok(venv)


def test_ensurepip_error_is_recognised() -> None:
    debian = (
        "The virtual environment was not created successfully because ensurepip is not\n"
        "available.  On Debian/Ubuntu systems, you need to install the python3-venv\n"
        "package using the following command.\n"
    )
    assert bootstrap.is_ensurepip_error(debian)
    assert not bootstrap.is_ensurepip_error("Error: [Errno 13] Permission denied: '.venv'")


ENSUREPIP_FAILURE = subprocess.CompletedProcess(
    ["python3", "-m", "venv"], 1, "Error: ... because ensurepip is not available.\n", ""
)


def fake_venv(venv: Path) -> subprocess.CompletedProcess[str]:
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    for name in ("python", "pip"):
        (venv / "bin" / name).write_text("#!/bin/sh\n")
    return subprocess.CompletedProcess(["python3", "-m", "venv"], 0, "", "")


def test_missing_ensurepip_is_fixed_with_apt_when_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = iter([ENSUREPIP_FAILURE])
    installed: list[Sequence[str]] = []
    monkeypatch.setattr(
        bootstrap, "create_venv", lambda venv: next(results, None) or fake_venv(venv)
    )
    monkeypatch.setattr(bootstrap, "can_use_apt", lambda: True)
    monkeypatch.setattr(bootstrap, "apt_install", installed.append)
    bootstrap.ensure_venv(tmp_path / ".venv")
    assert installed == [["python3-venv"]]
    assert bootstrap.venv_ok(tmp_path / ".venv")


def test_missing_ensurepip_without_root_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / ".venv"

    def half_made(venv: Path) -> subprocess.CompletedProcess[str]:
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(sys.executable)
        return ENSUREPIP_FAILURE

    monkeypatch.setattr(bootstrap, "create_venv", half_made)
    monkeypatch.setattr(bootstrap, "can_use_apt", lambda: False)
    with pytest.raises(bootstrap.BootstrapError, match="python3-venv") as caught:
        bootstrap.ensure_venv(venv)
    assert "\n" not in str(caught.value)
    assert not venv.exists()  # nothing half-made left for the next run to trust


def test_existing_venv_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(venv: Path) -> None:
        raise AssertionError("must not recreate")

    fake_venv(tmp_path / ".venv")
    monkeypatch.setattr(bootstrap, "create_venv", forbidden)
    bootstrap.ensure_venv(tmp_path / ".venv")


def test_exit_status_maps_signals_like_a_shell() -> None:
    assert bootstrap.exit_status(0) == 0
    assert bootstrap.exit_status(3) == 3
    assert bootstrap.exit_status(-9) == 137


def test_check_steps_order(tmp_path: Path) -> None:
    steps = bootstrap.check_steps(tmp_path, ["-x", "-k", "demo"])
    names = [[Path(step[0]).name, *step[1:]] for step in steps]
    assert names == [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["pytest", "-n", bootstrap.PYTEST_WORKERS, "-x", "-k", "demo"],
    ]
    assert all(Path(step[0]).parent == tmp_path / "bin" for step in steps)
    # Arguments that say how many workers win: `test -n 0` runs pytest in one process.
    assert bootstrap.check_steps(tmp_path, ["-n", "0"])[-1][1:] == ["-n", "0"]


def test_run_steps_stops_at_the_first_failure(tmp_path: Path) -> None:
    ran: list[str] = []

    def run(command: Sequence[str], cwd: Path) -> int:
        ran.append(command[0])
        return 4 if command[0] == "b" else 0

    assert bootstrap.run_steps([["a"], ["b"], ["c"]], tmp_path, run) == 4
    assert ran == ["a", "b"]
    ran.clear()
    assert bootstrap.run_steps([["a"], ["c"]], tmp_path, run) == 0
    assert ran == ["a", "c"]


@pytest.mark.parametrize("argv", [["frobnicate"], [], ["--run"]])
def test_unknown_command_prints_usage_and_exits_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage:" in captured.err


def test_help_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert bootstrap.main(["--help"]) == 0
    assert "usage:" in capsys.readouterr().out


def test_setup_errors_become_one_line_and_a_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(root: Path, args: Sequence[str]) -> int:
        raise bootstrap.BootstrapError("`pip install -e .[demo]` failed", 3)

    monkeypatch.setitem(bootstrap.COMMANDS, "test", failing)
    assert bootstrap.main(["test"]) == 3
    assert capsys.readouterr().err == "watcher: error: `pip install -e .[demo]` failed\n"


def test_readme_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = {m.group(1): m.group(0) for m in README_COMMAND.finditer(readme)}
    assert commands == {
        "run": "python3 .ci/bootstrap.py run",
        "test": "python3 .ci/bootstrap.py test",
    }
    assert len(README_COMMAND.findall(readme)) == 2
    assert "watcher.bootstrap" not in readme
    assert set(bootstrap.COMMANDS) == set(commands)


def test_ci_script_calls_the_readme_test_command() -> None:
    script = ROOT / ".ci" / "run"
    lines = script.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    commands = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "python3 .ci/bootstrap.py test"
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert commands[-1] in readme
    assert script.stat().st_mode & 0o111


def test_compiles_the_package_even_where_bytecode_writing_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The systemd units (and this machine's shell) set PYTHONDONTWRITEBYTECODE: the
    # bootstrap must write watcher's .pyc files all the same, and again when one changes.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    module = tmp_path / bootstrap.PACKAGE_DIR / "mod.py"
    module.parent.mkdir()
    module.write_text("X = 1\n")
    cached = Path(importlib.util.cache_from_source(str(module)))
    venv = Path(sys.prefix)  # the tests run in the project's venv
    bootstrap.ensure_compiled(tmp_path, venv)
    assert cached.is_file()
    first = cached.read_bytes()
    module.write_text("X = 22\n")
    later = module.stat().st_mtime + 2  # compileall compares whole seconds
    os.utime(module, (later, later))
    bootstrap.ensure_compiled(tmp_path, venv)
    assert cached.read_bytes() != first


def test_a_failed_compile_is_a_setup_error(tmp_path: Path) -> None:
    module = tmp_path / bootstrap.PACKAGE_DIR / "broken.py"
    module.parent.mkdir()
    module.write_text("def (:\n")
    with pytest.raises(bootstrap.BootstrapError, match="byte-compile"):
        bootstrap.ensure_compiled(tmp_path, Path(sys.prefix))


def test_the_page_bytecode_dir_is_the_one_the_page_is_run_with() -> None:
    from watcher.web import bytecode

    command, env = bootstrap.page_bytecode_command(Path(sys.prefix))
    assert command[-2:] == ["-m", bytecode.__name__]
    assert bytecode.page_env({}) == {
        key: env[key] for key in ("PYTHONOPTIMIZE", "PYTHONPYCACHEPREFIX")
    }
