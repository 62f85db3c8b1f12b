"""A camera's sub-stream (`detect_source`): read for analysis only, its times put on the main's.

The two streams of a camera are encoded from one sensor but reach us as two
connections, each timed from its own start. A moment is matched across them by
when it arrived: each stream's epoch is the earliest (wall arrival - media time)
seen on the connection (the least delayed packet is the truest), and a
sub-stream frame at t shows the main stream's moment t + (sub epoch - main epoch).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from watcher.source.base import Frame, Source, SourceError
from watcher.source.limiter import DecodeLimiter

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
_IDLE_WAIT_S = 1.0


class Epoch:
    """The monotonic time at which one connection's media time 0 arrived (its least delayed)."""

    def __init__(self) -> None:
        self.value: float | None = None

    def arrived(self, media_t: float, now: float | None = None) -> None:
        """Take one arrival of something timed `media_t`."""
        candidate = (time.monotonic() if now is None else now) - media_t
        if self.value is None or candidate < self.value:
            self.value = candidate

    def reset(self) -> None:
        """A new connection: its times start afresh."""
        self.value = None


class DetectReader:
    """Reads the sub-stream on its own thread and hands its frames, in main-stream time, on."""

    def __init__(
        self,
        name: str,
        source: Source,
        main_epoch: Epoch,
        deliver: Callable[[Frame], None],
        beat: Callable[[str], None],
        limiter: DecodeLimiter | None = None,
    ) -> None:
        """`limiter`: the one `source` decodes by; it is told the offset between the
        two clocks (analysis holds decoding in the main stream's time)."""
        self.source = source
        self.limiter = limiter
        self.main_epoch = main_epoch
        self.deliver = deliver
        self.thread_name = f"watcher.detect.{name}"
        self.log = logging.getLogger(self.thread_name)
        self._beat = beat
        self._epoch = Epoch()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self.frames_in = 0
        self.connected = False

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Stop reading and wait for the thread (up to `timeout_s`)."""
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        delay, outage = RETRY_FIRST_S, False
        while not self._stop.is_set():
            self._beat(self.thread_name)
            try:
                self.source.open()
                self.connected = True
                if outage:
                    self.log.info("sub-stream back: %s", self.source.description)
                outage, delay = False, RETRY_FIRST_S
                self._read()
                why = "sub-stream ended"
            except SourceError as exc:
                why = str(exc)
            except Exception as exc:  # a bug must not end the camera's analysis for good
                why = f"unexpected {type(exc).__name__}: {exc}"
            finally:
                self.connected = False
                self._epoch.reset()
                try:
                    self.source.close()
                except Exception:
                    self.log.debug("closing the sub-stream failed", exc_info=True)
            if self._stop.is_set():
                return
            if not outage:
                self.log.warning("%s; retrying (faces are not searched meanwhile)", why)
                outage = True
            self._wait(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    def _read(self) -> None:
        for chunk in self.source.chunks():
            self._beat(self.thread_name)
            if self._stop.is_set():
                return
            now = time.monotonic()
            for packet in chunk.packets:
                self._epoch.arrived(packet.arrival_t, now)
            main, mine = self.main_epoch.value, self._epoch.value
            if main is None or mine is None or not chunk.frames:
                continue  # the main stream is not there: nothing to record, or to time by
            self.frames_in += len(chunk.frames)
            offset = mine - main
            if self.limiter is not None:
                self.limiter.analysis_offset = offset
            latest = chunk.frames[-1]  # analysis takes the newest picture only
            self.deliver(Frame(latest.image, latest.t + offset))

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self._beat(self.thread_name)
            self._stop.wait(min(left, _IDLE_WAIT_S))
