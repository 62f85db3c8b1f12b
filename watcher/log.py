"""Logging to stderr in a form journald reads well: a level prefix, the logger (camera) name."""

from __future__ import annotations

import logging
import os
import sys

# journald reads "<N>" at the start of a line as the syslog priority.
_SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prio = _SYSLOG_PRIORITY.get(record.levelno, 6)
        return f"<{prio}>{super().format(record)}"


def setup_logging(level: str = "INFO") -> None:
    """Send log lines to stderr; under systemd without timestamps (journald adds them)."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(_JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # FFmpeg's own chatter (e.g. "non-existing PPS") is noise for users.
    logging.getLogger("libav").setLevel(logging.ERROR)
    # Alembic announces every plugin and migration step at INFO on each start.
    logging.getLogger("alembic").setLevel(logging.WARNING)
