"""`watcher run`: one CameraRunner per enabled camera, until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from watcher.config import WatcherConfig, mask_url
from watcher.constants import EXIT_FAILURE, EXIT_OK
from watcher.faces.engine import FaceEngine
from watcher.faces.gallery import Gallery
from watcher.pipeline.camera import CameraPipeline
from watcher.pipeline.live import CameraRunner
from watcher.pipeline.status import StatusReporter, write_status
from watcher.source import open_source
from watcher.source.factory import is_finite
from watcher.store import StoreWriter

log = logging.getLogger("watcher.daemon")
_TICK_S = 1.0
_STATUS_FILE_EVERY_S = 5.0


class Daemon:
    """Owns the cameras of one `watcher run`."""

    def __init__(
        self, cfg: WatcherConfig, engine: FaceEngine, gallery: Gallery, store: StoreWriter
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.gallery = gallery
        self.store = store
        self.runners: list[CameraRunner] = []
        self._stop = threading.Event()
        self._status_wanted = threading.Event()

    def current_gallery(self) -> Gallery:
        """The gallery in use now (a later reload swaps it)."""
        return self.gallery

    def request_stop(self, signum: int = 0, _frame: FrameType | None = None) -> None:
        """Ask the daemon to finish (signal handler)."""
        if signum:
            log.info("received %s, stopping", signal.Signals(signum).name)
        self._stop.set()

    def request_status(self, _signum: int = 0, _frame: FrameType | None = None) -> None:
        """Ask for a status line per camera (SIGUSR1)."""
        self._status_wanted.set()

    def run(self) -> int:
        """Start cameras, wait for a stop signal, close every event, return the exit status."""
        cameras = self.cfg.enabled_cameras()
        if not cameras:
            log.error("no enabled camera in %s", self.cfg.config_path)
            return EXIT_FAILURE
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.request_stop)
        signal.signal(signal.SIGUSR1, self.request_status)
        for camera in cameras:
            pipeline = CameraPipeline(
                camera, self.cfg.recordings_dir, self.engine, self.current_gallery, self.store
            )
            runner = CameraRunner(pipeline, open_source(camera), finite=is_finite(camera))
            log.info("camera %s: %s", camera.name, mask_url(camera.source))
            runner.start()
            self.runners.append(runner)
        log.info(
            "watching %d camera(s); recordings in %s", len(self.runners), self.cfg.recordings_dir
        )
        try:
            self._loop()
        finally:
            for runner in self.runners:
                runner.stop()
            self.store.flush()
        log.info("stopped")
        return EXIT_OK

    def _loop(self) -> None:
        """Housekeeping once a second until asked to stop: status file, status lines."""
        to_file, to_log = StatusReporter(self.runners), StatusReporter(self.runners)
        interval = self.cfg.status_interval_s
        next_file = next_log = time.monotonic()
        next_log += interval
        while not self._stop.wait(_TICK_S):
            now = time.monotonic()
            if now >= next_file:
                next_file = now + _STATUS_FILE_EVERY_S
                try:
                    write_status(self.cfg.recordings_dir, to_file.sample())
                except OSError as exc:
                    log.debug("status file not written: %s", exc)
            if self._status_wanted.is_set() or (interval and now >= next_log):
                self._status_wanted.clear()
                next_log = now + interval
                for status in to_log.sample():
                    log.info("status %s", status.line())
