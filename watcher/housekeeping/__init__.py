"""Housekeeping on one watched thread: retention, orphans, privacy expiry; recovery at start.

It sits above the store and the recorder and uses both: the store below never
imports it, and the recorder never imports the store's maintenance.

Names are loaded on first use (PEP 562): the review page deleting one event needs
the removal, not recovery's PyAV (clip probing) nor the writer's ORM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.lazy import lazy_names

if TYPE_CHECKING:
    from watcher.housekeeping.privacy import ExpiryReport, expire_unknown, expiry_pass
    from watcher.housekeeping.recovery import recover_open_events
    from watcher.housekeeping.report import GB, RetentionLimits, RetentionReport
    from watcher.housekeeping.retention import DEFAULT_INTERVAL_S, enforce
    from watcher.housekeeping.task import HousekeepingTask

# Each public name and the submodule that defines it.
_WHERE: dict[str, str] = {
    "ExpiryReport": "privacy",
    "expire_unknown": "privacy",
    "expiry_pass": "privacy",
    "recover_open_events": "recovery",
    "GB": "report",
    "RetentionLimits": "report",
    "RetentionReport": "report",
    "DEFAULT_INTERVAL_S": "retention",
    "enforce": "retention",
    "HousekeepingTask": "task",
}

__all__ = [
    "DEFAULT_INTERVAL_S",
    "GB",
    "ExpiryReport",
    "HousekeepingTask",
    "RetentionLimits",
    "RetentionReport",
    "enforce",
    "expire_unknown",
    "expiry_pass",
    "recover_open_events",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
