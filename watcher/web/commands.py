"""The `watcher faces` commands, run by the page in processes of their own.

The page changes the gallery through the very code of the command line, and the
face engine (dlib and its models, a few hundred MB at work) is loaded only while a
command runs, never kept by the page's process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Final

from watcher.config import WatcherConfig
from watcher.web.bytecode import without_page_settings

COMMAND_TIMEOUT_S: Final = 300.0
LINES_SHOWN: Final = 20
CLI_PREFIX: Final = "watcher: "
NO_CONFIG: Final = "this page was not started from a config file"


@dataclass(frozen=True)
class Outcome:
    """What a command did: whether it succeeded, its output lines, its standard output."""

    ok: bool
    lines: list[str]
    stdout: str = ""

    @property
    def reason(self) -> str:
        """Why a command failed, in its own last words (its log lines come before them)."""
        return " ".join(self.lines[-2:])


def _lines(text: str) -> list[str]:
    """The last non-empty lines of a command's output, without the `watcher: ` prefix."""
    lines = [line.removeprefix(CLI_PREFIX) for line in text.splitlines()]
    return [line for line in lines if line.strip()][-LINES_SHOWN:]


def run_faces(
    cfg: WatcherConfig, command: str, *args: str, options: tuple[str, ...] = ()
) -> Outcome:
    """Run `watcher faces COMMAND -c CONFIG [OPTIONS] -- ARGS...` on this page's config."""
    if cfg.config_path is None:
        return Outcome(False, [NO_CONFIG])
    config = ["-c", str(cfg.config_path), *options]
    try:
        done = subprocess.run(
            # After `--` a name is never taken for an option; the command validates it.
            [
                sys.executable,
                "-m",
                "watcher",
                "faces",
                command,
                *config,
                *(("--", *args) if args else ()),
            ],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            env=without_page_settings(dict(os.environ)),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(False, [f"{command} took longer than {COMMAND_TIMEOUT_S:.0f} s: stopped"])
    return Outcome(done.returncode == 0, _lines(done.stdout + done.stderr), done.stdout)


def name_by_command(cfg: WatcherConfig, label: str, name: str) -> tuple[bool, list[str]]:
    """Run `watcher faces name LABEL NAME`; (success, its output lines)."""
    outcome = run_faces(cfg, "name", label, name)
    return outcome.ok, outcome.lines


def check_by_command(cfg: WatcherConfig) -> tuple[dict[str, Any] | None, list[str]]:
    """`watcher faces check --json`: the gallery quality report, or None and why."""
    outcome = run_faces(cfg, "check", options=("--json",))
    try:
        report = json.loads(outcome.stdout) if outcome.ok else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        return None, outcome.lines
    return report, []
