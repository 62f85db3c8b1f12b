"""The README's two commands: set up `.venv` and run the demo, or run every check.

    python3 .ci/bootstrap.py run [ARGS...]    # `watcher run ARGS...` on the demo camera
    python3 .ci/bootstrap.py test [ARGS...]   # ruff, ruff format, mypy, pytest ARGS...

This runs under the system python3 before anything is installed, so it imports
only the standard library; it lives outside the `watcher` package, so it never
ships in the wheel. Each step is skipped when already done, so a second run
starts the checks (or the daemon) within a second. It installs Python packages
into `.venv` and, as root, Debian packages; it never downloads anything else
(no browser builds: `playwright install` is not run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final, NamedTuple

ROOT: Final = Path(__file__).resolve().parent.parent
VENV_NAME: Final = ".venv"
KNOWN_FACES_DIR: Final = "known_faces"

# Debian packages the test suite needs: GStreamer's RTSP server, PostgreSQL, systemd-analyze,
# Mosquitto.
APT_TEST_PACKAGES: tuple[str, ...] = (
    "gir1.2-gst-rtsp-server-1.0",
    "python3-gi",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-libav",
    # PostgreSQL: the shared-database tests start a throwaway server on loopback.
    "postgresql",
    # systemd-analyze verifies the shipped unit file.
    "systemd",
    # The notification tests publish to a throwaway Mosquitto broker on loopback.
    "mosquitto",
    # The review page's browser tests drive Debian's headless Chromium with Playwright
    # (its executable_path: Playwright's own browser download is never run).
    "chromium-headless-shell",
)

# Set for pytest when the system packages are in place: PostgreSQL and RTSP tests
# then fail, rather than skip, when their server does not start.
ENV_SERVICES: Final = "WATCHER_TEST_SERVICES"
PIP_FLAGS: Final = ("-q", "--disable-pip-version-check", "--no-input")
# `pip install --group` (PEP 735 dependency groups) came in pip 25.1; a venv made by
# Python 3.11's ensurepip has pip 23.2, so a setup that installs a group upgrades it first.
PIP_FOR_GROUPS: Final = "pip>=25.1"
NONINTERACTIVE: Final = {"DEBIAN_FRONTEND": "noninteractive"}

USAGE: Final = """\
usage: python3 .ci/bootstrap.py COMMAND [ARGS...]

commands:
  run [ARGS...]    set up .venv with the demo extra, then `watcher run ARGS...`
  test [ARGS...]   set up .venv with the demo, postgres and push extras and the dev group
                   (pytest, ruff, mypy), then ruff check, ruff format --check, mypy
                   and pytest ARGS... (stops at the first failure)
"""


class Install(NamedTuple):
    """What one command installs into the venv: watcher (editable) with extras, and groups."""

    name: str  # names the stamp
    extras: tuple[str, ...]
    groups: tuple[str, ...] = ()

    def target(self) -> str:
        """The editable install's target, as pip takes it: `.` or `.[a,b]`."""
        return f".[{','.join(self.extras)}]" if self.extras else "."

    def describe(self) -> str:
        """One line for the progress message and the error."""
        groups = "".join(f" --group {group}" for group in self.groups)
        return f"pip install -e '{self.target()}'{groups}"


DEMO_INSTALL: Final = Install("demo", ("demo",))
# The dev tools are a dependency group of pyproject.toml: nothing of them is in the wheel.
TEST_INSTALL: Final = Install("test", ("demo", "postgres", "push"), ("dev",))


class BootstrapError(Exception):
    """A setup step failed; the message is the one line to show."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def say(message: str) -> None:
    """Print a short progress line to stderr."""
    print(f"watcher: {message}", file=sys.stderr, flush=True)


def exit_status(returncode: int) -> int:
    """A child's return code as a shell would report it (signal N -> 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def venv_bin(venv: Path, name: str) -> Path:
    """Path of an executable inside the venv."""
    return venv / "bin" / name


# ---------------------------------------------------------------- apt packages


def is_installed_status(status: str) -> bool:
    """Whether a `dpkg-query -W -f='${Status}'` line means the package is installed."""
    # "install ok installed"; anything else ("deinstall ok config-files",
    # "install ok half-installed", "unknown ok not-installed") needs an install.
    return status.split()[-1:] == ["installed"]


def dpkg_status(package: str) -> str | None:
    """The package's dpkg status line, or None when dpkg does not know it."""
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def missing_packages(
    packages: Iterable[str], status: Callable[[str], str | None] = dpkg_status
) -> list[str]:
    """The packages that are not installed, in the given order."""
    missing = []
    for package in packages:
        line = status(package)
        if line is None or not is_installed_status(line):
            missing.append(package)
    return missing


def can_use_apt() -> bool:
    """Whether we may install system packages: root, on a system with apt-get."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(packages: Sequence[str]) -> None:
    """`apt-get update` and install the packages, without questions or recommends."""
    env = {**os.environ, **NONINTERACTIVE}
    say(f"installing system packages: {' '.join(packages)}")
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        status = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, check=False)
        if status.returncode != 0:
            raise BootstrapError(f"`{' '.join(command)}` failed", exit_status(status.returncode))


def ensure_apt_packages(packages: Sequence[str]) -> None:
    """Install the missing system packages, or warn when we cannot."""
    if not packages:
        return
    if shutil.which("dpkg-query") is None:
        # Not Debian-like: we cannot tell, and the checks may well pass anyway.
        say(f"warning: no dpkg here; make sure these are installed: {' '.join(packages)}")
        return
    missing = missing_packages(packages)
    if not missing:
        return
    if not can_use_apt():
        say(f"warning: not root or no apt-get; missing system packages: {' '.join(missing)}")
        return
    apt_install(missing)


# ---------------------------------------------------------------- venv


def venv_ok(venv: Path) -> bool:
    """Whether the venv looks complete: its config, a working python link, and pip."""
    # A failed `python3 -m venv` (no ensurepip) leaves python but no pip behind.
    return (
        (venv / "pyvenv.cfg").is_file()
        and venv_bin(venv, "python").exists()
        and venv_bin(venv, "pip").exists()
    )


def is_ensurepip_error(output: str) -> bool:
    """Whether `python3 -m venv` failed because ensurepip is missing (Debian w/o python3-venv)."""
    return "ensurepip" in output


def create_venv(venv: Path) -> subprocess.CompletedProcess[str]:
    """Run `python3 -m venv --clear`, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def ensure_venv(venv: Path) -> None:
    """Create the venv unless it exists; install python3-venv once if that is what it takes."""
    if venv_ok(venv):
        return
    say(f"creating {venv.name}")
    result = create_venv(venv)
    if result.returncode != 0 and is_ensurepip_error(result.stdout + result.stderr):
        if not can_use_apt():
            shutil.rmtree(venv, ignore_errors=True)
            raise BootstrapError(
                "python3 cannot create a venv (no ensurepip): "
                "install python3-venv (sudo apt-get install python3-venv) and retry"
            )
        apt_install(["python3-venv"])
        result = create_venv(venv)
    if result.returncode != 0 or not venv_ok(venv):
        # Leave nothing half-made that the next run would take for a venv.
        shutil.rmtree(venv, ignore_errors=True)
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit status {result.returncode}"
        raise BootstrapError(f"could not create {venv}: {reason}")


def venv_python_version(venv: Path) -> str:
    """The venv's Python version, read from pyvenv.cfg (empty if unreadable)."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("version", "version_info"):
            return value.strip()
    return ""


# ---------------------------------------------------------------- pip, with a stamp


def stamp_path(venv: Path, name: str) -> Path:
    """Where the stamp of a finished install (`Install.name`) lives."""
    return venv / f".watcher-{name}.stamp"


def stamp_digest(pyproject: bytes, python_version: str, what: str = "") -> str:
    """The sha256 that says which pyproject.toml, Python and install the stamp is for."""
    digest = hashlib.sha256(pyproject)
    digest.update(b"\0python " + python_version.encode())
    digest.update(b"\0install " + what.encode())
    return digest.hexdigest()


def current_digest(root: Path, venv: Path, what: str = "") -> str:
    """The digest the stamp must hold for the install to be up to date."""
    return stamp_digest((root / "pyproject.toml").read_bytes(), venv_python_version(venv), what)


def stamp_is_current(stamp: Path, digest: str) -> bool:
    """Whether the stamp file exists and holds this digest."""
    try:
        return stamp.read_text(encoding="utf-8").strip() == digest
    except OSError:
        return False


def write_stamp(stamp: Path, digest: str) -> None:
    """Record a finished install (atomically, so a crash cannot leave half a stamp)."""
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(digest + "\n", encoding="utf-8")
    os.replace(tmp, stamp)


def pip_commands(venv: Path, install: Install) -> list[list[str]]:
    """The pip runs of an install, in order (run from the project root)."""
    pip = [str(venv_bin(venv, "python")), "-m", "pip", "install", *PIP_FLAGS]
    commands = []
    if install.groups:
        # A no-op, without a download, when the venv's pip is recent enough already.
        commands.append([*pip, PIP_FOR_GROUPS])
    groups = [arg for group in install.groups for arg in ("--group", group)]
    commands.append([*pip, "-e", install.target(), *groups])
    return commands


def ensure_installed(root: Path, venv: Path, install: Install) -> None:
    """Run the install's pip commands in the venv unless its stamp says they are done."""
    stamp = stamp_path(venv, install.name)
    digest = current_digest(root, venv, install.describe())
    if stamp_is_current(stamp, digest):
        return
    say(f"installing: {install.describe()}")
    for command in pip_commands(venv, install):
        result = subprocess.run(command, cwd=root, stdin=subprocess.DEVNULL, check=False)
        if result.returncode != 0:
            shown = " ".join(arg for arg in command[3:] if arg not in PIP_FLAGS)
            raise BootstrapError(f"`pip {shown}` failed", exit_status(result.returncode))
    write_stamp(stamp, digest)


# ---------------------------------------------------------------- bytecode

# The package whose modules every `watcher` process imports.
PACKAGE_DIR: Final = "watcher"


def compile_command(venv: Path) -> list[str]:
    """Byte-compile watcher's own modules (the editable install leaves them as source)."""
    return [str(venv_bin(venv, "python")), "-m", "compileall", "-q", PACKAGE_DIR]


def ensure_compiled(root: Path, venv: Path) -> None:
    """Write watcher's .pyc files now, so no process compiles its modules at start.

    The systemd units set PYTHONDONTWRITEBYTECODE (their code folder is read-only),
    and so do some shells: without .pyc files every start, even `watcher events
    list`, compiled ~70 modules from source (60-90 ms here). compileall writes them
    whatever that variable says and rewrites only those whose source changed, so
    this is quick when nothing did; Python reads a .pyc only while it matches its
    source, so an edited module is never run stale.
    """
    result = subprocess.run(compile_command(venv), cwd=root, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise BootstrapError("could not byte-compile watcher", exit_status(result.returncode))


# The review page runs as its unit runs it, in the tests too: without docstrings, from
# bytecode compiled ahead into the venv (watcher/web/bytecode.py says why).
PAGE_BYTECODE: Final = "watcher.web.bytecode"
PAGE_PYCACHE_DIR: Final = "pycache-page"  # watcher.web.bytecode.PYCACHE_DIR


def page_bytecode_command(venv: Path) -> tuple[list[str], dict[str, str]]:
    """The command that compiles the page's modules into the venv, and its environment."""
    env = dict(os.environ, PYTHONOPTIMIZE="2", PYTHONPYCACHEPREFIX=str(venv / PAGE_PYCACHE_DIR))
    return [str(venv_bin(venv, "python")), "-m", PAGE_BYTECODE], env


def ensure_page_bytecode(root: Path, venv: Path) -> None:
    """Compile what the review page imports (a no-op, about 0.5 s, when it is current)."""
    command, env = page_bytecode_command(venv)
    result = subprocess.run(command, cwd=root, env=env, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise BootstrapError("could not compile the review page", exit_status(result.returncode))


# ---------------------------------------------------------------- commands


def activate(venv: Path) -> None:
    """Make child processes see the venv first on PATH, like `source .venv/bin/activate`."""
    os.environ["VIRTUAL_ENV"] = str(venv)
    os.environ["PATH"] = os.pathsep.join([str(venv / "bin"), os.environ.get("PATH", "")])
    os.environ.pop("PYTHONHOME", None)


# Most tests wait on the clock (cameras play in real time, daemons start and
# stop), not on the CPU: three workers run the suite in about half the time on
# two cores (measured here: 9:42 alone, 4:43 with -n 3, the same 447 tests).
PYTEST_WORKERS = "3"


def check_steps(venv: Path, pytest_args: Sequence[str]) -> list[list[str]]:
    """The checks `test` runs, in order (pytest on PYTEST_WORKERS workers unless
    ARGS say how: `test -n 0` runs it in one process)."""
    ruff = str(venv_bin(venv, "ruff"))
    workers = (
        [] if any(a == "-n" or a.startswith("-n") for a in pytest_args) else ["-n", PYTEST_WORKERS]
    )
    return [
        [ruff, "check", "."],
        [ruff, "format", "--check", "."],
        [str(venv_bin(venv, "mypy"))],
        [str(venv_bin(venv, "pytest")), *workers, *pytest_args],
    ]


def run_steps(
    steps: Iterable[Sequence[str]],
    cwd: Path,
    run: Callable[[Sequence[str], Path], int] | None = None,
) -> int:
    """Run each command in turn; stop at the first failure and return its exit status."""
    runner = run or _run_command
    for step in steps:
        say("running " + " ".join([Path(step[0]).name, *step[1:]]))
        status = runner(step, cwd)
        if status != 0:
            say(f"{Path(step[0]).name} failed (exit status {status})")
            return status
    return 0


def _run_command(command: Sequence[str], cwd: Path) -> int:
    """Run a command in cwd without stdin; return its exit status."""
    result = subprocess.run(list(command), cwd=cwd, stdin=subprocess.DEVNULL, check=False)
    return exit_status(result.returncode)


def cmd_test(root: Path, args: Sequence[str]) -> int:
    """Set up for the tests and run ruff, ruff format, mypy and pytest."""
    venv = root / VENV_NAME
    ensure_apt_packages(APT_TEST_PACKAGES)
    if shutil.which("dpkg-query") is not None and not missing_packages(APT_TEST_PACKAGES):
        # Everything the service tests need is installed: a skip would hide a fault.
        os.environ[ENV_SERVICES] = "required"
    ensure_venv(venv)
    ensure_installed(root, venv, TEST_INSTALL)
    ensure_compiled(root, venv)
    ensure_page_bytecode(root, venv)
    activate(venv)
    return run_steps(check_steps(venv, args), root)


def cmd_run(root: Path, args: Sequence[str]) -> int:
    """Set up for the demo and replace this process with `watcher run ARGS...`."""
    venv = root / VENV_NAME
    ensure_venv(venv)
    ensure_installed(root, venv, DEMO_INSTALL)
    ensure_compiled(root, venv)
    faces = root / KNOWN_FACES_DIR
    install = [str(venv_bin(venv, "python")), "-m", "watcher.source.demo_scene"]
    status = _run_command([*install, "--install-resident", str(faces)], root)
    if status != 0:
        raise BootstrapError("could not install the demo resident", status)
    activate(venv)
    # Relative paths in the default config (config/watcher.yaml) are from the root.
    os.chdir(root)
    watcher = str(venv_bin(venv, "watcher"))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(watcher, [watcher, "run", *args])


COMMANDS: Final[dict[str, Callable[[Path, Sequence[str]], int]]] = {
    "run": cmd_run,
    "test": cmd_test,
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch `run` or `test`; return the exit status."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["-h"], ["--help"]):
        print(USAGE, end="")
        return 0
    command = COMMANDS.get(args[0]) if args else None
    if command is None:
        print(USAGE, end="", file=sys.stderr)
        if args:
            print(f"bootstrap: unknown command {args[0]!r}", file=sys.stderr)
        return 2
    try:
        return command(ROOT, args[1:])
    except BootstrapError as exc:
        say(f"error: {exc}")
        return exc.status or 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
