"""One camera's events: when they open, grow, roll over and end, and what their rows say.

Only bookkeeping happens here, under the pipeline's lock and in memory: every
file (clip, snapshot, crops) and every row after the first is the recorder's
work (record/recorder.py), on its own thread, so that neither capture nor
analysis waits on the disk.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

from watcher.config import CameraConfig
from watcher.core import Box, RGBImage, box_height
from watcher.decide.tracker import Sighting
from watcher.pipeline.clock import MediaClock
from watcher.pipeline.events import ActiveEvent, FinishedEvent, new_event_id
from watcher.record.paths import event_paths
from watcher.record.recorder import Closed, EventRecorder, Recording
from watcher.source.base import Packet, StreamInfo
from watcher.store import SightingData, StoreWriter, to_blob

_HOST = socket.gethostname()
_BETTER_CROP = 1.15  # a stranger's face is cropped again only when this much bigger


class EventKeeper:
    """The open event of one camera, if any, and the orders given to its recorder."""

    def __init__(
        self,
        camera: CameraConfig,
        recordings: Path,
        store: StoreWriter,
        recorder: EventRecorder,
        on_finished: Callable[[FinishedEvent], None] | None,
        log: logging.Logger,
    ) -> None:
        self.camera = camera
        self.recordings = recordings
        self.store = store
        self.recorder = recorder
        self.on_finished = on_finished
        self.log = log
        self.event: ActiveEvent | None = None

    def open(
        self,
        start_t: float,
        deadline_t: float,
        earlier: list[Sighting],
        info: StreamInfo | None,
        clock: MediaClock,
        preroll: list[Packet],
        why: str | None = None,
    ) -> ActiveEvent:
        """A new event from `start_t`; its clip starts with the `preroll` packets; `why`
        the faces were judged strangers."""
        started_at = clock.wall(start_t)
        event_id = new_event_id()
        paths = event_paths(self.recordings, self.camera.name, started_at, event_id)
        event = ActiveEvent(
            event_id, self.camera.name, start_t, started_at, paths, deadline_t, clock.wall
        )
        self.event = event
        event.decision = why
        # The first row goes to the store's queue at once: a crash still leaves a trace.
        self.store.open_event(event_id, self.camera.name, started_at, host=_HOST, decision=why)
        self.log.info("event %s: unknown face at %.1f s, recording", event_id, start_t)
        if why:
            self.log.info("event %s: %s", event_id, why)
        rec = Recording(event_id, self.camera.name, paths, start_t, started_at, clock.wall)
        self.recorder.open(rec, info, preroll)
        event.sent_first_t = next((p.t for p in preroll if p.keyframe), None)
        self.add_sightings(earlier)
        return event

    def packets(
        self, packets: list[Packet], analysed_t: float, reopen: Callable[[Packet], None]
    ) -> None:
        """Hand the packets of the open event to its clip; end it past its deadline, or
        roll it over at max_clip_s (`reopen` starts the next event at a keyframe)."""
        batch: list[Packet] = []
        for packet in packets:
            event = self.event
            if event is None:
                break
            # The analysis lags the capture: end only once it has looked past the
            # deadline too, or a slow analysis would split one visit in many.
            if packet.t > event.deadline_t and analysed_t > event.deadline_t:
                self._send(event, batch)
                batch = []
                self.finish()
                continue
            first = event.sent_first_t
            long_enough = first is not None and packet.t - first >= self.camera.record.max_clip_s
            if packet.keyframe and long_enough:
                self._send(event, batch)
                batch = []
                reopen(packet)
                continue
            if first is None and packet.keyframe:
                event.sent_first_t = packet.t
            batch.append(packet)
        if self.event is not None:
            self._send(self.event, batch)

    def _send(self, event: ActiveEvent, batch: list[Packet]) -> None:
        if batch:
            event.sent_last_t = batch[-1].t
            self.recorder.write(event.id, batch)

    def snapshot(self, picture: RGBImage, strangers: list[Box]) -> None:
        """The event's snapshot, once: the first frame a confirmed stranger is in."""
        event = self.event
        if event is None or event.snapshot_taken or not strangers:
            return
        event.snapshot_taken = True
        self.recorder.snapshot(event.id, picture, strangers)

    def add_sightings(self, sightings: list[Sighting]) -> None:
        """Keep sightings in the event and hand their rows (and strangers' crops) over."""
        event = self.event
        if event is None or not sightings:
            return
        event.add(sightings)
        rows, crops = [], []
        for s in sightings:
            blob, crop_path = None, None
            if s.evidence is not None:
                blob = to_blob(s.evidence.embedding)
                path = self._crop_path(event, s)
                if path is not None:
                    crops.append((path, s.evidence.crop))
                    crop_path = str(path)
            rows.append(
                SightingData(
                    at=event.wall(s.t),
                    offset_s=s.t - event.start_t,
                    box=s.box,
                    name=s.name,
                    distance=s.distance,
                    embedding=blob,
                    crop_path=crop_path,
                    note=s.note,
                )
            )
        self.recorder.sightings(event.id, rows, crops)

    def _crop_path(self, event: ActiveEvent, sighting: Sighting) -> Path | None:
        """Where a stranger's face crop goes, when it is a better look than the last."""
        height = box_height(sighting.box)
        if height < event.cropped.get(sighting.track_id, 0) * _BETTER_CROP:
            return None
        event.cropped[sighting.track_id] = height
        event.crops += 1
        clip = event.paths.clip
        return clip.with_name(f"{clip.stem}-face-{event.crops}.jpg")

    def finish(self) -> None:
        """End the open event: the recorder closes its clip at its last frame."""
        event, self.event = self.event, None
        if event is None:
            return
        last_seen = max([event.start_t, *(s.t for s in event.sightings)])
        self.recorder.close(event.id, last_seen, lambda closed: self._closed(event, closed))

    def _closed(self, event: ActiveEvent, closed: Closed) -> None:
        """On the recorder's thread: the event's final row and its report."""
        rec = closed.recording
        # The clock's mapping may have moved since the event opened (a reconnect, a
        # late burst): an end before the start would be a lie in every listing.
        ended_at = max(event.started_at, rec.wall(closed.end_t))
        extra = {}
        if rec.cut_t is not None:
            cut = f"the clip was cut at {rec.cut_t - event.start_t:.1f} s (storage full)"
            extra["decision"] = f"{event.decision}; {cut}" if event.decision else cut
        self.store.close_event(
            event.id,
            ended_at,
            status=closed.status,
            clip_path=closed.clip,
            faces=event.faces,
            closest_distance=event.closest,
            **extra,
        )
        duration = closed.end_t - event.start_t
        self.log.info("event %s: ended after %.1f s (%s)", event.id, duration, closed.status)
        if self.on_finished is not None:
            self.on_finished(
                FinishedEvent(
                    id=event.id,
                    camera=event.camera,
                    start_s=event.start_t,
                    end_s=closed.end_t,
                    clip_start_s=rec.clip_first_t if closed.clip else None,
                    clip=closed.clip,
                    snapshot=None if rec.snapshot is None else str(rec.snapshot),
                    status=closed.status,
                    faces=list(event.sightings),
                    decision=event.decision,
                )
            )
