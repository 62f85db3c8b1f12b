"""A live camera: a capture thread that never waits for analysis, and an analysis thread.

Capture reads every packet as it arrives and hands the newest frame to analysis
through a one-slot mailbox: frames analysis has no time for are counted and
dropped, never queued, so latency cannot grow. A lost camera is retried with
capped exponential backoff, for ever, and logged once per outage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from traceback import format_exception

from watcher.config import mask_url
from watcher.log import FaultLog
from watcher.pipeline.camera import CameraPipeline
from watcher.pipeline.detect import DetectReader, Epoch
from watcher.pipeline.schedule import AnalysisSchedule
from watcher.source.base import Frame, Source, SourceError, StreamInfo

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
# A connection must deliver this long before the backoff starts again from 1 s:
# a camera that accepts and then fails at once is retried ever more slowly.
HEALTHY_S = 10.0
_JOIN_TIMEOUT_S = 10.0
_IDLE_WAIT_S = 1.0

Beat = Callable[[str], None]


@dataclass
class Counters:
    """What a camera has done so far (monotonic counters, for status and rates)."""

    connected_since: float | None = None  # wall time of the current connection
    disconnected_since: float | None = None  # wall time the camera was lost (or never came)
    reconnects: int = 0
    frames_in: int = 0
    frames_skipped: int = 0  # arrived while analysis was busy: dropped, not queued
    finished: bool = False  # a video file that reached its end


class CameraRunner:
    """Runs one camera until stopped."""

    def __init__(
        self,
        pipeline: CameraPipeline,
        source: Source,
        *,
        finite: bool = False,
        beat: Beat | None = None,
        detect: Source | None = None,
    ) -> None:
        """`detect`: the camera's sub-stream, analysed in place of `source`'s frames
        (`source` is then read for its packets only)."""
        self.pipeline = pipeline
        self.source = source
        self.finite = finite  # a file without loop: its end is the camera's end
        self.name = pipeline.name
        self.counters = Counters(disconnected_since=time.time())
        self.log = logging.getLogger(f"watcher.capture.{self.name}")
        self._beat = beat or (lambda _name: None)
        self._stop = threading.Event()
        self._delay = RETRY_FIRST_S
        self._outage: float | None = None  # monotonic start of the current outage
        self._attempts = 0
        self._announced = False  # "camera back" said for this outage
        self._slot: Frame | None = None
        self._slot_ready = threading.Condition()
        self.capture_name = f"watcher.capture.{self.name}"
        self.analyse_name = f"watcher.analyse.{self.name}"
        self._threads = [
            threading.Thread(target=self._capture, name=self.capture_name, daemon=True),
            threading.Thread(target=self._analyse, name=self.analyse_name, daemon=True),
        ]
        self._main_epoch = Epoch()
        self.detect = (
            None
            if detect is None
            else DetectReader(
                self.name, detect, self._main_epoch, self._offer, self._beat, pipeline.limiter
            )
        )

    def start(self) -> None:
        """Start the capture and analysis threads, and the recorder's."""
        self.pipeline.recorder.start()
        for thread in self._threads:
            thread.start()
        if self.detect is not None:
            self.detect.start()

    def request_stop(self) -> None:
        """Ask both threads to finish (returns at once; `stop` waits for them)."""
        self._stop.set()
        with self._slot_ready:
            self._slot_ready.notify_all()

    def stop(self) -> None:
        """Stop both threads; the open event, if any, ends with its last frame."""
        self.request_stop()
        if self.detect is not None:
            self.detect.stop(_JOIN_TIMEOUT_S)
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT_S)
        self.pipeline.end_stream()
        if not self.pipeline.close(_JOIN_TIMEOUT_S):
            self.log.error("recorder still writing after %.0f s; left behind", _JOIN_TIMEOUT_S)

    # -- capture -------------------------------------------------------------
    def _capture(self) -> None:
        while not self._stop.is_set():
            try:
                if self._attempt():
                    return
            except Exception as exc:
                # An error no source expects (a bug, or FFmpeg failing where it was not
                # thought to fail, such as the encoder refusing a camera's first picture)
                # must not end this camera for good, silently: it is a lost connection.
                self._lost(f"lost: unexpected {type(exc).__name__}", "reconnecting", exc)
                try:
                    self._release()
                except Exception:
                    self.log.debug("cleaning up after the error failed too", exc_info=True)
                self._backoff()

    def _attempt(self) -> bool:
        """Connect once and read until the stream ends or fails; True when the camera is done."""
        self._beat(self.capture_name)
        try:
            info = self.source.open()
        except SourceError as exc:
            self._lost(str(exc), "retrying")
            self._backoff()
            return False
        self._connected(info)
        started = time.monotonic()
        ended, why, failure = False, "stream ended", None
        try:
            ended = self._read()
        except SourceError as exc:
            why = f"lost: {exc}"
        except Exception as exc:  # a bug must not end this camera for good: reconnect
            why, failure = f"lost: unexpected {type(exc).__name__}", exc
        finally:
            self._release()
        if time.monotonic() - started >= HEALTHY_S:
            self._outage, self._attempts, self._delay = None, 0, RETRY_FIRST_S
        if self._stop.is_set():
            return True
        if ended and self.finite:
            self.log.info("end of the video file; this camera is done")
            self.counters.finished = True
            return True
        if ended and self.source.paced:
            return False  # a looped file: play it again at once
        self._lost(why, "reconnecting", failure)
        self._backoff()
        return False

    def _release(self) -> None:
        """After a connection (or a failed attempt): end the stream and close the source."""
        counters = self.counters
        if counters.connected_since is not None or counters.disconnected_since is None:
            counters.connected_since, counters.disconnected_since = None, time.time()
        with self._slot_ready:
            self._slot = None  # a frame of the old connection is not analysed
        try:
            self.pipeline.end_stream()
        finally:
            self.source.close()

    def _lost(self, why: str, action: str, exc: BaseException | None = None) -> None:
        """Count a failed attempt; log it once per outage (a flapping camera stays quiet).

        An unexpected `exc` is logged with its traceback: as an error at the first
        failure of an outage, in the debug log after that.
        """
        self._attempts += 1
        detail = "" if exc is None else f"\n{_traceback(exc)}"
        if self._outage is None:
            self._outage = time.monotonic()
            self._announced = False
            level = logging.WARNING if exc is None else logging.ERROR
            self.log.log(level, "%s; %s%s", why, action, detail)
        else:
            self.log.debug("attempt %d: %s%s", self._attempts, why, detail)

    def _connected(self, info: StreamInfo) -> None:
        """Log the connection: always the first, then once per outage."""
        text = (
            f"connected to {self.source.description} "
            f"({info.codec} {info.width}x{info.height}, {info.fps:.3g} fps)"
        )
        if self._outage is not None:
            self.counters.reconnects += 1
            if self._announced:
                self.log.debug("%s (still unstable)", text)
            else:
                self._announced = True
                self.log.info(
                    "camera back after %.0f s (%d attempts)",
                    time.monotonic() - self._outage,
                    self._attempts,
                )
                self.log.info("%s", text)
        else:
            self.log.info("%s", text)
        self.counters.connected_since, self.counters.disconnected_since = time.time(), None
        self._main_epoch.reset()
        self.pipeline.start_stream(info)

    def _backoff(self) -> None:
        """Wait before the next attempt: 1 s doubling to 30 s, reset only by a healthy stream."""
        self._wait(self._delay)
        self._delay = min(self._delay * 2, RETRY_MAX_S)

    def _wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking for stop, beating so a retrying camera counts as alive."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self._beat(self.capture_name)
            self._stop.wait(min(left, _IDLE_WAIT_S))

    def _read(self) -> bool:
        """Feed chunks to the pipeline; True when the stream ended by itself."""
        self.pipeline.clock.reset()
        for chunk in self.source.chunks():
            self._beat(self.capture_name)
            if self._stop.is_set():
                return False
            if chunk.packets:
                self.pipeline.clock.arrived(chunk.packets[-1].arrival_t)
                if self.detect is not None:
                    now = time.monotonic()
                    for packet in chunk.packets:
                        self._main_epoch.arrived(packet.arrival_t, now)
            self.pipeline.on_packets(chunk.packets)
            self.counters.frames_in += len(chunk.packets)  # one per frame, decoded or not
            if chunk.frames:
                # A catch-up (source/limiter.py) gives the frames since a keyframe at
                # once: only the newest is for analysis, the others are history, not
                # frames analysis had no time for.
                dropped = sum(1 for f in chunk.frames[:-1] if not f.caught_up)
                self._offer(chunk.frames[-1], dropped)
        return True

    def _offer(self, frame: Frame, dropped: int = 0) -> None:
        """Hand the newest frame to analysis; one it had not taken yet is dropped, counted."""
        self.pipeline.offered(frame.t)
        with self._slot_ready:
            self.counters.frames_skipped += dropped + (self._slot is not None)
            self._slot = frame
            self._slot_ready.notify()

    # -- analysis ------------------------------------------------------------
    def _analyse(self) -> None:
        schedule = AnalysisSchedule(self.pipeline.camera.faces.analyse_fps)
        # A fault that persists fails every frame: its traceback once, then the debug log.
        faults = FaultLog(self.log, repeat_level=logging.DEBUG)
        while not self._stop.is_set():
            self._beat(self.analyse_name)
            with self._slot_ready:
                if self._slot is None:
                    self._slot_ready.wait(_IDLE_WAIT_S)
                frame, self._slot = self._slot, None
            if frame is None:
                continue
            if not schedule.due(frame.t):
                self.pipeline.passed(frame.t)
                continue
            try:
                self.pipeline.analyse(frame)
            except Exception as exc:  # a bug on one frame must not end the camera
                faults.failed(exc, "analysis failed on the frame at %.2f s", frame.t)
            else:
                if faults.failing:
                    again = faults.recovered()
                    self.log.info("analysis works again (%d more frame(s) had failed)", again)


def _traceback(exc: BaseException) -> str:
    """The exception's traceback as log.exception writes it, with any URL password masked.

    FFmpeg's errors carry the URL they failed on, password and all.
    """
    return mask_url("".join(format_exception(exc)).rstrip("\n"))
