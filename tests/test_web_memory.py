"""The review page's memory rules (watcher/web/memory.py, bytecode.py): few threads, one
malloc arena, trimmed once idle, and started from compiled, docstring-free bytecode."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.types import Message, Receive, Scope, Send

from tests.support.media import ROOT
from tests.support.web import Page, request, write_config
from watcher.config import load_config
from watcher.web import bytecode, memory
from watcher.web.site import WebApp

PROBE_S = 60.0


def test_the_idle_trim_runs_once_no_request_has_been_in_flight_for_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "TRIM_AFTER_S", 0.05)
    trims: list[int] = []
    gate = asyncio.Event()

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/slow":
            await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})

    middleware = memory.TrimWhenIdle(slow_app)
    middleware._trim = lambda: trims.append(middleware.in_flight)

    async def nothing() -> Message:
        return {"type": "http.request"}

    async def sink(_message: Message) -> None:
        return None

    async def ask(path: str) -> None:
        await middleware({"type": "http", "path": path}, nothing, sink)

    async def scenario() -> None:
        slow = asyncio.create_task(ask("/slow"))
        await asyncio.sleep(0)
        await ask("/quick")
        await asyncio.sleep(0.15)
        assert trims == []  # the slow request is still in flight
        gate.set()
        await asyncio.wait_for(slow, 5)
        await ask("/quick")  # within the wait: one trim for both
        assert trims == []
        await asyncio.sleep(0.15)
        assert trims == [0]
        await ask("/quick")  # a scheduled trim that finds a request in flight waits for it
        slow_again = asyncio.create_task(ask("/slow"))
        gate.clear()
        await asyncio.sleep(0.15)
        assert trims == [0]
        gate.set()
        await asyncio.wait_for(slow_again, 5)
        await asyncio.sleep(0.15)
        assert trims == [0, 0]

    asyncio.run(scenario())


def test_gallery_commands_run_one_at_a_time_off_the_pages_threads(tmp_path: Path) -> None:
    web = WebApp(load_config(write_config(tmp_path)), None)
    running: list[int] = []
    most = [0]  # the most commands running at once

    def command(seconds: float) -> float:
        running.append(1)
        most[0] = max(most[0], len(running))
        time.sleep(seconds)
        running.pop()
        return seconds

    async def scenario() -> list[float]:
        memory.limit_threads()
        calls = [web.run_command(command, 0.05) for _ in range(3)]
        return list(await asyncio.wait_for(asyncio.gather(*calls), 10))

    assert asyncio.run(scenario()) == [0.05] * 3
    assert most == [memory.COMMAND_THREADS] == [1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_one_arena_is_set_with_glibc() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from watcher.web.memory import one_arena; print(one_arena())"],
        capture_output=True,
        text=True,
        timeout=PROBE_S,
        cwd=ROOT,
    )
    assert done.stdout.strip() == "True", done.stderr


def test_eight_browsers_at_once_are_served_by_the_pages_two_threads(tmp_path: Path) -> None:
    page = Page(write_config(tmp_path)).wait_ready()
    try:
        paths = ["/", "/strangers", "/status", "/gallery", "/static/app.css"] * 8
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda path: request(page.port, path)[0], paths))
        assert statuses == [200] * len(paths)
        threads = len(os.listdir(f"/proc/{page.proc.pid}/task"))
        # uvicorn's event loop and at most PAGE_THREADS workers (anyio allows 40).
        assert threads <= 1 + memory.PAGE_THREADS, threads
    finally:
        page.stop()


_STARTS_COMPILED = """
import importlib.util, json, os, sys
import watcher.cli, watcher.cli.web, watcher.web.server, watcher.web.app
from watcher.web.bytecode import preload
preload()
missing = sorted(
    name
    for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").endswith(".py")
    and not os.path.exists(importlib.util.cache_from_source(module.__file__))
)
print(json.dumps({"optimize": sys.flags.optimize, "missing": missing,
                  "docstrings": [json.dumps.__doc__, watcher.web.server.serve.__doc__]}))
"""


@pytest.mark.parametrize("cache", ["the venv's", "a fresh one"])
def test_the_page_starts_from_compiled_bytecode_without_docstrings(
    cache: str, tmp_path: Path
) -> None:
    """As its unit runs it (nothing written at start): every module it imports before its
    first request was compiled ahead, without docstrings - by the bootstrap into the
    venv, and by the unit's step (`python -m watcher.web.bytecode`) into an empty cache."""
    prefix = None if cache == "the venv's" else tmp_path / "pycache"
    env = bytecode.page_env(dict(os.environ, PYTHONDONTWRITEBYTECODE="1"), prefix)
    if prefix is not None:
        step = [sys.executable, "-P", "-m", "watcher.web.bytecode"]
        done = subprocess.run(step, capture_output=True, text=True, timeout=PROBE_S, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
    done = subprocess.run(
        [sys.executable, "-c", _STARTS_COMPILED],
        capture_output=True,
        text=True,
        timeout=PROBE_S,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["optimize"] == 2
    assert report["docstrings"] == [None, None]
    assert report["missing"] == [], "run `python3 .ci/bootstrap.py test` (it compiles them)"
