"""`watcher run`: one CameraRunner per enabled camera, until SIGTERM or SIGINT.

The main loop keeps the status file and lines and the systemd watchdog (pinged
only while every watched thread makes progress); retention, the orphan sweep and
privacy expiry run on the housekeeping thread.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import Engine

from watcher.config import CameraConfig, ConfigError, WatcherConfig, load_config, mask_url
from watcher.constants import EXIT_FAILURE, EXIT_OK
from watcher.core import FaceEngine
from watcher.faces.gallery import Gallery
from watcher.faces.reload import GalleryWatcher
from watcher.housekeeping import HousekeepingTask, RetentionLimits
from watcher.notify import make_dispatcher, targets_of
from watcher.notify.rules import Gate
from watcher.pipeline.camera import CameraPipeline
from watcher.pipeline.live import CameraRunner
from watcher.pipeline.status import CameraStatus, StatusReporter, write_status
from watcher.service import (
    ANALYSE_MAX_SILENCE_S,
    CAPTURE_MAX_SILENCE_S,
    GALLERY_MAX_SILENCE_S,
    MAIN_MAX_SILENCE_S,
    RETENTION_MAX_SILENCE_S,
    STORE_MAX_SILENCE_S,
    Keepalive,
    Liveness,
    Notifier,
)
from watcher.source import open_detect_source, open_source
from watcher.source.factory import is_finite
from watcher.store import StoreWriter

log = logging.getLogger("watcher.daemon")
_TICK_S = 1.0
_STATUS_FILE_EVERY_S = 10.0  # often enough for `watcher status`, gentle on SD cards
_MAIN = "main"
_GALLERY_POLL_S = 2.0
# Settings a running daemon cannot switch to; a reload keeps the old value and says so.
_RESTART_KEYS = (
    "database_url",
    "recordings_dir",
    "known_faces_dir",
    "retention",
    "log_level",
    "mqtt",
    "webhooks",
    "notify",
)
_NOTIFY_DRAIN_S = 3.0  # at stop, for the last `end` messages to go out


def short_status(statuses: list[CameraStatus]) -> str:
    """The one-line STATUS= text systemctl shows: each camera's state."""
    parts = []
    for s in statuses:
        state = "done" if s.finished else "recording" if s.event else "watching"
        parts.append(f"{s.camera}: {state if s.connected or s.finished else 'disconnected'}")
    return "; ".join(parts)


class Daemon:
    """Owns the cameras of one `watcher run`."""

    def __init__(
        self,
        cfg: WatcherConfig,
        engine: FaceEngine,
        gallery: Gallery,
        store: StoreWriter,
        db: Engine,
        stop: threading.Event | None = None,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.gallery = GalleryWatcher(engine, cfg.known_faces_dir, gallery=gallery)
        self.store = store
        self.db = db
        self.runners: list[CameraRunner] = []
        self.notifier = Notifier()
        self.liveness = Liveness()
        self.keepalive = Keepalive(self.notifier, self.liveness)
        keep = cfg.retention
        self.housekeeping = HousekeepingTask(
            db,
            cfg.recordings_dir,
            RetentionLimits(keep.max_age_days, keep.max_disk_gb, keep.min_free_gb),
            self.active_clips,
            host=socket.gethostname(),
            interval_s=keep.interval_s,
            unknown_faces_days=cfg.privacy.unknown_faces_days,
        )
        # Telling the household: the writer adds outbox rows, the dispatcher delivers them.
        # The rules' state: armed or not (MQTT commands), read by the cameras too.
        self.gate = Gate(cfg.notify)
        self.notify = make_dispatcher(
            cfg,
            db,
            people=sorted(gallery.people),
            on_reload=self.gallery.request_reload,
            gate=self.gate,
        )
        if self.notify is not None:
            store.notify_targets = targets_of(list(self.notify.channels.values()))
            store.on_notify = self.notify.wake
        self._stop = stop or threading.Event()
        self._status_wanted = threading.Event()
        self._reload_wanted = threading.Event()

    def current_gallery(self) -> Gallery:
        """The gallery in use now (hot reload swaps it)."""
        return self.gallery.current()

    def active_clips(self) -> set[Path]:
        """Clips being written now: retention never touches them."""
        return {clip for r in self.runners for clip in r.pipeline.active_clips()}

    def request_stop(self, signum: int = 0, _frame: FrameType | None = None) -> None:
        """Ask the daemon to finish (signal handler)."""
        if signum:
            log.info("received %s, stopping", signal.Signals(signum).name)
        self._stop.set()

    def request_reload(self, _signum: int = 0, _frame: FrameType | None = None) -> None:
        """Ask for the config and the gallery to be read again (SIGHUP)."""
        self._reload_wanted.set()

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
        if self._stop.is_set():
            log.info("stopped during start-up")
            return EXIT_OK
        signal.signal(signal.SIGUSR1, self.request_status)
        signal.signal(signal.SIGHUP, self.request_reload)
        self.housekeeping.run_round()  # before recording: make room first
        self.liveness.register(_MAIN, MAIN_MAX_SILENCE_S)
        for camera in cameras:
            self.runners.append(self._start_camera(camera))
        # Every long-lived thread is watched: one stuck in a call (a database that
        # stops answering, a gallery on a dead share) stops the watchdog's pings.
        for worker, silence in (
            (self.store, STORE_MAX_SILENCE_S),
            (self.housekeeping, RETENTION_MAX_SILENCE_S),
            (self.gallery, GALLERY_MAX_SILENCE_S),
        ):
            worker.beat = self.liveness.beat
            self.liveness.register(worker.thread_name, silence)
        if self.notify is not None:
            self.notify.beat = self.liveness.beat
            self.liveness.register(self.notify.thread_name, self.notify.max_silence_s)
            self.notify.start()
        self.housekeeping.start()
        self.gallery.start(_GALLERY_POLL_S)
        log.info(
            "watching %d camera(s); recordings in %s", len(self.runners), self.cfg.recordings_dir
        )
        self.notifier.ready(f"watching {len(self.runners)} camera(s)")
        try:
            self._loop()
        finally:
            self.notifier.stopping("finishing open clips")
            for runner in self.runners:
                runner.request_stop()  # all at once: cameras stop in parallel
            for runner in self.runners:
                runner.stop()
            self.housekeeping.stop()
            self.gallery.stop()
            self.store.flush()
            if self.notify is not None:
                self.notify.drain(_NOTIFY_DRAIN_S)  # what is left waits for the next start
                self.notify.stop()
        log.info("stopped")
        return EXIT_OK

    def _start_camera(self, camera: CameraConfig) -> CameraRunner:
        pipeline = CameraPipeline(
            camera,
            self.cfg.recordings_dir,
            self.engine,
            self.current_gallery,
            self.store,
            on_storage_error=self.housekeeping.wake,
            alert_names=self.cfg.alert_names(),
            learn=self.gallery.offer,
            seen=self._person_seen if self.notify is not None else None,
            may_record=lambda: self.cfg.notify.record_when_disarmed or self.gate.armed(camera.name),
        )
        detect = (
            None if camera.detect_source is None else open_detect_source(camera, pipeline.limiter)
        )
        runner = CameraRunner(
            pipeline,
            open_source(camera, pipeline.limiter),
            finite=is_finite(camera),
            beat=self.liveness.beat,
            detect=detect,
        )
        # The capture thread is silent while FFmpeg waits on the camera: allow for it.
        silence = max(CAPTURE_MAX_SILENCE_S, camera.open_timeout_s + camera.read_timeout_s + 60)
        self.liveness.register(runner.capture_name, silence)
        self.liveness.register(runner.analyse_name, ANALYSE_MAX_SILENCE_S)
        if runner.detect is not None:
            self.liveness.register(runner.detect.thread_name, silence)
        recorder = pipeline.recorder
        recorder.beat = self.liveness.beat
        self.liveness.register(recorder.thread_name, recorder.max_silence_s)
        log.info("camera %s: %s", camera.name, mask_url(camera.source))
        runner.start()
        return runner

    def _tell_people(self) -> None:
        """Home Assistant learns of people added to (or removed from) the gallery by a
        hot reload: a sensor each, without a restart."""
        if self.notify is None:
            return
        self.notify.set_people(sorted(self.current_gallery().people))

    def _person_seen(self, person: str, camera: str) -> None:
        """Presence for MQTT (`<prefix>/people/<name>`): queued, never waited on."""
        self.store.person_seen(person, camera, datetime.now(UTC))

    def _stop_camera(self, runner: CameraRunner) -> None:
        runner.stop()
        self.liveness.unregister(runner.capture_name)
        self.liveness.unregister(runner.analyse_name)
        if runner.detect is not None:
            self.liveness.unregister(runner.detect.thread_name)
        self.liveness.unregister(runner.pipeline.recorder.thread_name)

    def reload(self) -> None:
        """Read the config again; apply it if valid (changed cameras restart), else keep the old."""
        self.notifier.reloading()
        try:
            new = load_config(self.cfg.config_path)
        except ConfigError as exc:
            for line in exc.errors:
                log.error("reload refused, keeping the running config: %s", line)
            self.notifier.ready()
            return
        for key in _RESTART_KEYS:
            if getattr(new, key) != getattr(self.cfg, key):
                log.warning("%s changed: it takes effect at the next restart", key)
                setattr(new, key, getattr(self.cfg, key))
        wanted = {c.name: c for c in new.enabled_cameras()}
        kept: list[CameraRunner] = []
        going: list[tuple[CameraRunner, CameraConfig | None]] = []
        for runner in self.runners:
            camera = wanted.pop(runner.name, None)
            if camera == runner.pipeline.camera:
                kept.append(runner)
            else:
                log.info("camera %s: %s", runner.name, "changed" if camera else "removed")
                going.append((runner, camera))
        # Every camera that goes is asked first, then each is joined: they stop in
        # parallel, in about one camera's time, and the watchdog is fed between
        # joins, so a reload of many cameras never outlasts WatchdogSec.
        for runner, _ in going:
            runner.request_stop()
        for runner, camera in going:
            self._stop_camera(runner)
            self.liveness.beat(_MAIN)
            self.keepalive.tick()
            if camera is not None:
                kept.append(self._start_camera(camera))
        kept.extend(self._start_camera(camera) for camera in wanted.values())
        self.runners[:] = kept
        self.cfg = new
        # Privacy applies from the next round (retention's limits wait for a restart).
        self.housekeeping.unknown_faces_days = new.privacy.unknown_faces_days
        for runner in self.runners:  # the watch-list applies to every camera at once
            runner.pipeline.set_alert_names(new.alert_names())
        self.gallery.request_reload()
        log.info("config reloaded: %d camera(s)", len(self.runners))
        self.notifier.ready()

    def _loop(self) -> None:
        """Once a second until asked to stop: the watchdog, the status file and lines, reloads."""
        to_file, to_log = StatusReporter(self.runners), StatusReporter(self.runners)
        interval = self.cfg.status_interval_s
        next_file = next_log = time.monotonic()
        next_log += interval
        self.keepalive.tick()
        while not self._stop.wait(_TICK_S):
            self.liveness.beat(_MAIN)
            for runner in self.runners:
                if runner.counters.finished:  # a video file that ended is not stuck
                    self.liveness.unregister(runner.capture_name)
            self.keepalive.tick()
            self._tell_people()
            if self._reload_wanted.is_set():
                self._reload_wanted.clear()
                self.reload()
                interval = self.cfg.status_interval_s
            now = time.monotonic()
            if now >= next_file:
                next_file = now + _STATUS_FILE_EVERY_S
                statuses = to_file.sample()
                self.notifier.status(short_status(statuses))
                try:
                    write_status(self.cfg.recordings_dir, statuses)
                except OSError as exc:
                    log.debug("status file not written: %s", exc)
            if self._status_wanted.is_set() or (interval and now >= next_log):
                self._status_wanted.clear()
                next_log = now + interval
                for status in to_log.sample():
                    log.info("status %s", status.line())
