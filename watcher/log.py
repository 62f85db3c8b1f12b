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


def one_line(exc: BaseException) -> str:
    """An exception on one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def expected_fault(exc: BaseException) -> bool:
    """Whether a fault comes from outside watcher: the system (OSError: a full disk, a
    dead share) or the database (SQLAlchemyError). Anything else is watcher's own bug."""
    if isinstance(exc, OSError):
        return True
    sa_exc = sys.modules.get("sqlalchemy.exc")  # never imported here just to ask
    return sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError)


class FaultLog:
    """How a thread that survives a fault logs it, so that a fault that persists is no flood.

    A fault from outside (expected_fault, or one of `expected`) is one line;
    watcher's own bug gets its traceback the first time, and one line when the
    same fault comes again at once. With `repeat_level`, a repeat is logged at
    that level instead (DEBUG for a fault that may come with every frame), and
    `recovered()` says when it stopped.
    """

    def __init__(
        self,
        logger: logging.Logger,
        repeat_level: int | None = None,
        expected: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.logger = logger
        self.repeat_level = repeat_level
        self.expected = expected  # more faults from outside, for this thread
        self._last: str | None = None
        self.repeats = 0

    def failed(
        self, exc: BaseException, msg: str, *args: object, level: int = logging.ERROR
    ) -> None:
        """Log `msg % args` for `exc`, as the class says."""
        key = _where(exc)
        repeat = key == self._last
        self._last = key
        if repeat:
            self.repeats += 1
            if self.repeat_level is not None:
                level = self.repeat_level
        else:
            self.repeats = 0
        if repeat or expected_fault(exc) or isinstance(exc, self.expected):
            self.logger.log(level, f"{msg}: %s", *args, one_line(exc))
        else:
            self.logger.log(level, msg, *args, exc_info=exc)

    def recovered(self) -> int:
        """Forget the last fault (it stopped); how many repeats of it there were."""
        repeats, self._last, self.repeats = self.repeats, None, 0
        return repeats

    @property
    def failing(self) -> bool:
        """Whether the last call was a failure not yet followed by recovered()."""
        return self._last is not None


def _where(exc: BaseException) -> str:
    """What makes two faults the same: the exception's type and the line that raised it
    (not its message, which may name the frame or the file of the moment)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    place = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else str(exc)
    return f"{type(exc).__module__}.{type(exc).__qualname__} at {place}"
