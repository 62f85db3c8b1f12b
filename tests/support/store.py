"""Bounds of the store's writer thread in tests, and what the outbox holds."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from watcher.store.models import Notification

WRITER_STOP_S = 10.0  # a writer stops within this after a test


def pending(engine: Engine) -> int:
    """How many notification rows the outbox holds."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Notification)).scalar_one())
