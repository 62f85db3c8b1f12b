"""A live camera: a capture thread that never waits for analysis, and an analysis thread.

Capture reads every packet as it arrives and hands the newest frame to analysis
through a one-slot mailbox: frames analysis has no time for are counted and
dropped, never queued, so latency cannot grow.
"""

from __future__ import annotations

import logging
import threading
import time

from watcher.pipeline.camera import CameraPipeline
from watcher.pipeline.schedule import AnalysisSchedule
from watcher.source.base import Frame, Source, SourceError

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
_JOIN_TIMEOUT_S = 10.0


class CameraRunner:
    """Runs one camera until stopped; reconnects with capped exponential backoff."""

    def __init__(self, pipeline: CameraPipeline, source: Source) -> None:
        self.pipeline = pipeline
        self.source = source
        self.name = pipeline.name
        self.log = logging.getLogger(f"watcher.capture.{self.name}")
        self._stop = threading.Event()
        self._slot: Frame | None = None
        self._slot_ready = threading.Condition()
        self.frames_in = 0
        self.frames_skipped = 0
        self.reconnects = 0
        self.connected_since: float | None = None
        self._threads = [
            threading.Thread(
                target=self._capture, name=f"watcher.capture.{self.name}", daemon=True
            ),
            threading.Thread(
                target=self._analyse, name=f"watcher.analyse.{self.name}", daemon=True
            ),
        ]

    def start(self) -> None:
        """Start the capture and analysis threads."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop both threads; the open event, if any, ends with its last frame."""
        self._stop.set()
        with self._slot_ready:
            self._slot_ready.notify_all()
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT_S)
        self.pipeline.end_stream()

    def alive(self) -> bool:
        """True while both threads run."""
        return all(t.is_alive() for t in self._threads)

    # -- capture -------------------------------------------------------------
    def _capture(self) -> None:
        delay = RETRY_FIRST_S
        failing = False
        while not self._stop.is_set():
            try:
                info = self.source.open()
            except SourceError as exc:
                if not failing:
                    self.log.warning("%s; retrying", exc)  # logged once per outage
                failing = True
                self._stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            if failing:
                self.reconnects += 1
            self.log.info(
                "connected to %s (%s %dx%d)",
                self.source.description,
                info.codec,
                info.width,
                info.height,
            )
            failing, delay = False, RETRY_FIRST_S
            self.connected_since = time.time()
            self.pipeline.start_stream(info)
            try:
                self._read()
            except SourceError as exc:
                self.log.warning("%s; reconnecting", exc)
                failing = True
            finally:
                self.connected_since = None
                self.pipeline.end_stream()
                self.source.close()
            if not failing and not self._stop.is_set():
                self.log.info("stream ended; reopening")

    def _read(self) -> None:
        anchored = False
        for chunk in self.source.chunks():
            if self._stop.is_set():
                return
            if not anchored and chunk.packets:
                self.pipeline.clock.anchor(chunk.packets[0].t)
                anchored = True
            self.pipeline.on_packets(chunk.packets)
            if chunk.frames:
                self.frames_in += len(chunk.frames)
                with self._slot_ready:
                    if self._slot is not None:
                        self.frames_skipped += 1
                    self.frames_skipped += len(chunk.frames) - 1
                    self._slot = chunk.frames[-1]
                    self._slot_ready.notify()

    # -- analysis ------------------------------------------------------------
    def _analyse(self) -> None:
        schedule = AnalysisSchedule(self.pipeline.camera.faces.analyse_fps)
        while not self._stop.is_set():
            with self._slot_ready:
                while self._slot is None and not self._stop.is_set():
                    self._slot_ready.wait(1.0)
                frame, self._slot = self._slot, None
            if frame is None or not schedule.due(frame.t):
                continue
            try:
                self.pipeline.analyse(frame)
            except Exception:  # a bug in one frame must not end the camera
                self.log.exception("analysis failed on a frame at %.2f s", frame.t)
