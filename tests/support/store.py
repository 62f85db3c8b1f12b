"""Bounds of the store's writer thread in tests."""

from __future__ import annotations

WRITER_STOP_S = 10.0  # a writer stops within this after a test
