"""How threads that survive faults log them: a fault from outside is one line, watcher's
own bug its traceback once, and a fault that persists is no flood."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from watcher.log import FaultLog, expected_fault, one_line

LOGGER = "watcher.test.faults"


def records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str, bool]]:
    return [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records]


def bug(n: int) -> None:
    raise KeyError(f"frame {n}")  # the message differs each time; the fault is the same


def test_a_fault_from_outside_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    faults = FaultLog(logging.getLogger(LOGGER))
    disk = OSError(28, "No space left on device")
    database = OperationalError("INSERT ...", {}, Exception("database is locked\nmore"))
    assert expected_fault(disk) and expected_fault(database) and not expected_fault(KeyError())
    with caplog.at_level(logging.INFO, logger=LOGGER):
        faults.failed(disk, "writing %s failed", "a.mp4")
        faults.failed(database, "store: %s failed", "close_event", level=logging.WARNING)
    assert records(caplog) == [
        (logging.ERROR, "writing a.mp4 failed: OSError: [Errno 28] No space left on device", False),
        (logging.WARNING, f"store: close_event failed: {one_line(database)}", False),
    ]
    assert "\n" not in one_line(database)


def test_a_bug_gets_its_traceback_once_while_it_persists(
    caplog: pytest.LogCaptureFixture,
) -> None:
    faults = FaultLog(logging.getLogger(LOGGER), repeat_level=logging.DEBUG)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        for n in range(3):
            try:
                bug(n)
            except KeyError as exc:
                faults.failed(exc, "analysis failed on the frame at %d s", n)
    assert records(caplog) == [
        (logging.ERROR, "analysis failed on the frame at 0 s", True),
        (logging.DEBUG, "analysis failed on the frame at 1 s: KeyError: 'frame 1'", False),
        (logging.DEBUG, "analysis failed on the frame at 2 s: KeyError: 'frame 2'", False),
    ]
    assert faults.failing and faults.recovered() == 2 and not faults.failing
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        try:
            bug(3)
        except KeyError as exc:  # after a recovery, the same bug is news again
            faults.failed(exc, "analysis failed")
    assert records(caplog) == [(logging.ERROR, "analysis failed", True)]
