"""A camera's recorder: every file of its events written on one thread of its own.

The capture thread hands packets over and the analysis thread hands decisions
over; neither ever waits on the disk (a slow SD card, a full disk, an NFS share
that hangs). The recorder writes in the order it was told: the clip (pre-roll
first), the snapshot and face crops, then the event's rows through the store's
writer, and finally closes the event with its clip's true last frame.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from watcher.constants import EVENT_CLOSED, EVENT_NO_CLIP
from watcher.core import Box, RGBImage
from watcher.log import FaultLog
from watcher.record.clip import ClipError, ClipWriter
from watcher.record.paths import EventPaths
from watcher.record.snapshot import boxed, crop, write_jpeg
from watcher.source.base import Packet, StreamInfo
from watcher.store import SightingData, StoreWriter
from watcher.worker import IDLE_BEAT_S, Beat, no_beat

Wall = Callable[[float], datetime]  # media time -> wall time (the stream's clock)
_JOIN_S = 10.0


@dataclass
class Recording:
    """What the recorder knows of one event: its files, as far as they were written."""

    id: str
    camera: str
    paths: EventPaths
    start_t: float
    started_at: datetime
    wall: Wall
    clip: ClipWriter | None = None
    clip_first_t: float | None = None
    clip_last_t: float | None = None
    snapshot: Path | None = None
    face: Path | None = None
    crops: list[Path] = field(default_factory=list)
    cut_t: float | None = None  # media time the clip ended early at (a full disk)


@dataclass(frozen=True)
class Closed:
    """An event as it ended: what the clip holds, for the row and the replay report."""

    recording: Recording
    end_t: float
    status: str
    clip: str | None


class EventRecorder:
    """One thread that does a camera's event I/O, in order; callers only enqueue."""

    # A clip write or a JPEG takes milliseconds; a minute without one finished is
    # a disk that hangs (a dead NFS share, a dying SD card).
    max_silence_s = 120.0

    def __init__(
        self,
        camera: str,
        store: StoreWriter,
        on_storage_error: Callable[[], None] | None = None,
        beat: Beat = no_beat,
    ) -> None:
        self.camera = camera
        self.store = store
        self.on_storage_error = on_storage_error
        self.log = logging.getLogger(f"watcher.record.{camera}")
        # A job that fails with every packet is one traceback, then the debug log.
        self._faults = FaultLog(self.log, repeat_level=logging.DEBUG)
        self.thread_name = f"watcher.record.{camera}"
        self.beat = beat
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._open: dict[str, Recording] = {}
        self._open_clips: set[Path] = set()  # read by retention from another thread
        self._clips_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- the callers' side ----------------------------------------------------
    def start(self) -> EventRecorder:
        """Start the thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def open(self, recording: Recording, info: StreamInfo | None, preroll: list[Packet]) -> None:
        """Start an event's clip with its pre-roll (no clip when `info` is None)."""
        with self._clips_lock:
            self._open_clips.add(recording.paths.clip)
        self._submit(lambda: self._do_open(recording, info, preroll))

    def write(self, event_id: str, packets: list[Packet]) -> None:
        """Append packets to the event's clip."""
        self._submit(lambda: self._do_write(event_id, packets))

    def snapshot(self, event_id: str, picture: RGBImage, boxes: list[Box]) -> None:
        """Write the event's snapshot (the faces boxed) and the biggest face's crop."""
        self._submit(lambda: self._do_snapshot(event_id, picture, boxes))

    def sightings(
        self, event_id: str, rows: list[SightingData], crops: list[tuple[Path, RGBImage]]
    ) -> None:
        """Write the face crops, then store the rows that name them."""
        self._submit(lambda: self._do_sightings(event_id, rows, crops))

    def close(self, event_id: str, last_seen_t: float, finish: Callable[[Closed], None]) -> None:
        """End the event at its clip's last frame; `finish` is called with the outcome."""
        self._submit(lambda: self._do_close(event_id, last_seen_t, finish))

    def active_clips(self) -> set[Path]:
        """Clips open now or waiting to be: retention never touches them."""
        with self._clips_lock:
            return set(self._open_clips)

    def flush(self, timeout_s: float = _JOIN_S) -> bool:
        """Wait until everything handed over so far is done; False on timeout."""
        done = threading.Event()
        self._submit(done.set)
        return done.wait(timeout_s)

    def request_stop(self) -> None:
        """Ask the thread to end once the work queued so far is done."""
        if self._thread is None:
            self._drain()  # never started (a test, a replay): do the work here
            return
        self._jobs.put(None)

    def join(self, timeout_s: float = _JOIN_S) -> bool:
        """Wait for the thread to end; False if it is still busy after `timeout_s`."""
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    def stop(self, timeout_s: float = _JOIN_S) -> bool:
        """Finish the queued work, then end the thread; False if it is still busy."""
        self.request_stop()
        return self.join(timeout_s)

    def _submit(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            job()  # no thread (replay, tests): in the caller's order, at once
            return
        self._jobs.put(job)

    # -- the recorder's thread ------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=IDLE_BEAT_S)
            except queue.Empty:
                self.beat(self.thread_name)  # idle is progress
                continue
            if job is None:
                return
            self._safely(job)

    def _drain(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self._safely(job)

    def _safely(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception as exc:  # a bug in one job must not end recording for good
            self._faults.failed(exc, "recorder job failed; going on")
        self.beat(self.thread_name)

    def _storage_error(self) -> None:
        if self.on_storage_error is not None:
            self.on_storage_error()

    def _do_open(self, rec: Recording, info: StreamInfo | None, preroll: list[Packet]) -> None:
        self._open[rec.id] = rec
        if info is not None:
            try:
                rec.clip = ClipWriter(rec.paths.clip, info)
            except ClipError as exc:
                self.log.error("%s; the event is kept without a clip", exc)
                self._storage_error()
        self._do_write(rec.id, preroll)

    def _do_write(self, event_id: str, packets: list[Packet]) -> None:
        rec = self._open.get(event_id)
        if rec is None or rec.clip is None:
            return
        for packet in packets:
            try:
                rec.clip.write(packet)
            except ClipError as exc:
                # A full disk ends this clip (playable up to its last fragment); the
                # event and the analysis go on, and the next event tries again.
                self.log.error("%s; clip ended early, the event goes on", exc)
                rec.clip.close()
                rec.clip = None
                rec.cut_t = rec.clip_last_t if rec.clip_last_t is not None else rec.start_t
                self._storage_error()
                return
            if rec.clip_first_t is None and rec.clip.first_t is not None:
                # Stored at once: after a crash, recovery finds the clip and its start.
                self.store.update_event(
                    rec.id,
                    clip_path=str(rec.paths.clip),
                    clip_started_at=rec.wall(rec.clip.first_t),
                )
            rec.clip_first_t, rec.clip_last_t = rec.clip.first_t, rec.clip.last_t

    def _do_snapshot(self, event_id: str, picture: RGBImage, boxes: list[Box]) -> None:
        rec = self._open.get(event_id)
        if rec is None or not boxes:
            return
        try:
            write_jpeg(rec.paths.snapshot, boxed(picture, boxes))
            rec.snapshot = rec.paths.snapshot
            biggest = max(boxes, key=lambda b: b[2] - b[0])
            write_jpeg(rec.paths.face, crop(picture, biggest))
            rec.face = rec.paths.face
        except OSError as exc:
            self.log.error("event %s: snapshot not written: %s", rec.id, exc)
            self._storage_error()
            return
        self.store.update_event(rec.id, snapshot_path=str(rec.snapshot), face_path=str(rec.face))

    def _do_sightings(
        self, event_id: str, rows: list[SightingData], crops: list[tuple[Path, RGBImage]]
    ) -> None:
        written = set()
        for path, pixels in crops:
            try:
                write_jpeg(path, pixels)
                written.add(str(path))
            except OSError as exc:
                self.log.warning("event %s: face crop not written: %s", event_id, exc)
        rec = self._open.get(event_id)
        if rec is not None:
            rec.crops.extend(Path(p) for p in written)
        # A row names only a crop that exists.
        kept = [r if r.crop_path in written or r.crop_path is None else _no_crop(r) for r in rows]
        self.store.add_sightings(event_id, kept)

    def _do_close(
        self, event_id: str, last_seen_t: float, finish: Callable[[Closed], None]
    ) -> None:
        rec = self._open.pop(event_id, None)
        if rec is None:
            return
        if rec.clip is not None:
            rec.clip.close()
            rec.clip = None
        with self._clips_lock:
            self._open_clips.discard(rec.paths.clip)
        if rec.clip_last_t is not None:
            # A clip cut early (a full disk) does not end the visit: the stranger
            # may have stayed in view, and the row says until when.
            last = last_seen_t if rec.cut_t is not None else rec.start_t
            end_t = max(rec.start_t, rec.clip_last_t, last)
            status, clip = EVENT_CLOSED, str(rec.paths.clip)
        else:
            end_t, status, clip = max(rec.start_t, last_seen_t), EVENT_NO_CLIP, None
        finish(Closed(rec, end_t, status, clip))


def _no_crop(row: SightingData) -> SightingData:
    return replace(row, crop_path=None)
