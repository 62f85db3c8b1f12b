"""System services some tests need (PostgreSQL, GStreamer, Mosquitto, a browser)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def skip_unless_required(reason: str) -> NoReturn:
    """Skip for a missing system service, or fail where the test command installed it."""
    if os.environ.get("WATCHER_TEST_SERVICES") == "required":
        pytest.fail(f"{reason} (the test command installed it, so this is a fault)")
    pytest.skip(reason)
