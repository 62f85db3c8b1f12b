"""A real browser for the page's tests: Debian's headless Chromium driven by Playwright
(the system's browser; Playwright's own download is never used)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

BROWSERS = ("chromium-headless-shell", "chromium")
STEP_MS = 15_000  # any one browser action or wait


def _browser_path() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    reason = "no Chromium: install Debian's chromium-headless-shell"
    if os.environ.get("WATCHER_TEST_SERVICES") == "required":
        pytest.fail(f"{reason} (the test command installed it, so this is a fault)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    path = _browser_path()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, args=["--no-sandbox"], timeout=STEP_MS
        )
        try:
            yield launched
        finally:
            launched.close()
