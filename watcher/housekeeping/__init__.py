"""Housekeeping on one watched thread: retention, orphans, privacy expiry; recovery at start.

It sits above the store and the recorder and uses both: the store below never
imports it, and the recorder never imports the store's maintenance.
"""

from watcher.housekeeping.privacy import ExpiryReport, expire_unknown, expiry_pass
from watcher.housekeeping.recovery import recover_open_events
from watcher.housekeeping.report import GB, RetentionLimits, RetentionReport
from watcher.housekeeping.retention import DEFAULT_INTERVAL_S, enforce
from watcher.housekeeping.task import HousekeepingTask

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
