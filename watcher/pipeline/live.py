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

from watcher.pipeline.camera import CameraPipeline
from watcher.pipeline.schedule import AnalysisSchedule
from watcher.source.base import Frame, Source, SourceError

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
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
    ) -> None:
        self.pipeline = pipeline
        self.source = source
        self.finite = finite  # a file without loop: its end is the camera's end
        self.name = pipeline.name
        self.counters = Counters(disconnected_since=time.time())
        self.log = logging.getLogger(f"watcher.capture.{self.name}")
        self._beat = beat or (lambda _name: None)
        self._stop = threading.Event()
        self._slot: Frame | None = None
        self._slot_ready = threading.Condition()
        self.capture_name = f"watcher.capture.{self.name}"
        self.analyse_name = f"watcher.analyse.{self.name}"
        self._threads = [
            threading.Thread(target=self._capture, name=self.capture_name, daemon=True),
            threading.Thread(target=self._analyse, name=self.analyse_name, daemon=True),
        ]

    def start(self) -> None:
        """Start the capture and analysis threads."""
        for thread in self._threads:
            thread.start()

    def request_stop(self) -> None:
        """Ask both threads to finish (returns at once; `stop` waits for them)."""
        self._stop.set()
        with self._slot_ready:
            self._slot_ready.notify_all()

    def stop(self) -> None:
        """Stop both threads; the open event, if any, ends with its last frame."""
        self.request_stop()
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT_S)
        self.pipeline.end_stream()

    def alive(self) -> bool:
        """True while both threads run (or the camera's file simply ended)."""
        return self.counters.finished or all(t.is_alive() for t in self._threads)

    # -- capture -------------------------------------------------------------
    def _capture(self) -> None:
        delay = RETRY_FIRST_S
        lost_at: float | None = None  # monotonic time of the current outage's start
        attempts = 0
        while not self._stop.is_set():
            self._beat(self.capture_name)
            try:
                info = self.source.open()
            except SourceError as exc:
                attempts += 1
                if lost_at is None:
                    lost_at = time.monotonic()
                    self.log.warning("%s; retrying (every %g-%g s)", exc, delay, RETRY_MAX_S)
                else:
                    self.log.debug("attempt %d: %s", attempts, exc)
                self._wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            if lost_at is not None:
                self.counters.reconnects += 1
                self.log.info(
                    "camera back after %.0f s (%d attempts)", time.monotonic() - lost_at, attempts
                )
            self.log.info(
                "connected to %s (%s %dx%d, %.3g fps)",
                self.source.description,
                info.codec,
                info.width,
                info.height,
                info.fps,
            )
            lost_at, attempts, delay = None, 0, RETRY_FIRST_S
            self.counters.connected_since, self.counters.disconnected_since = time.time(), None
            self.pipeline.start_stream(info)
            ended = False
            try:
                ended = self._read()
            except SourceError as exc:
                self.log.warning("lost: %s; reconnecting", exc)
                lost_at, attempts = time.monotonic(), 1
            finally:
                self.counters.connected_since, self.counters.disconnected_since = None, time.time()
                self.pipeline.end_stream()
                self.source.close()
            if not ended or self._stop.is_set():
                if lost_at is not None:
                    self._wait(delay)
                continue
            if self.finite:
                self.log.info("end of the video file; this camera is done")
                self.counters.finished = True
                return
            if not self.source.paced:  # a stream that ended by itself: the camera went away
                self.log.warning("stream ended; reconnecting")
                lost_at, attempts = time.monotonic(), 1
                self._wait(delay)
            # else a looped file: play it again at once

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
            self.pipeline.on_packets(chunk.packets)
            self.counters.frames_in += len(chunk.packets)  # one per frame, decoded or not
            if chunk.frames:
                with self._slot_ready:
                    dropped = len(chunk.frames) - 1 + (self._slot is not None)
                    self.counters.frames_skipped += dropped
                    self._slot = chunk.frames[-1]
                    self._slot_ready.notify()
        return True

    # -- analysis ------------------------------------------------------------
    def _analyse(self) -> None:
        schedule = AnalysisSchedule(self.pipeline.camera.faces.analyse_fps)
        while not self._stop.is_set():
            self._beat(self.analyse_name)
            with self._slot_ready:
                if self._slot is None:
                    self._slot_ready.wait(_IDLE_WAIT_S)
                frame, self._slot = self._slot, None
            if frame is None or not schedule.due(frame.t):
                continue
            try:
                self.pipeline.analyse(frame)
            except Exception:  # a bug on one frame must not end the camera
                self.log.exception("analysis failed on the frame at %.2f s", frame.t)
