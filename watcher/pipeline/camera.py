"""One camera's pipeline: packets feed the pre-roll and the clip; analysed frames drive events.

Packets and frames may arrive on different threads (capture and analysis); one
lock guards the event state they share. Every decision uses media time, so a
live camera and `watcher replay` of the same footage decide the same way.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watcher.buffer.preroll import PrerollBuffer
from watcher.config import CameraConfig
from watcher.constants import EVENT_CLOSED, EVENT_NO_CLIP
from watcher.core import Box, Embeddings, FaceEngine, RGBImage, box_height
from watcher.decide.evidence import Observation
from watcher.decide.tracker import Decider, Sighting, Track
from watcher.faces.gallery import Gallery
from watcher.faces.openset import OpenSetRule
from watcher.faces.quality import measure
from watcher.motion.gate import GreyImage, MotionGate
from watcher.motion.planner import ScanPlanner, body_area
from watcher.pipeline.clock import MediaClock
from watcher.pipeline.events import ActiveEvent, FinishedEvent, new_event_id
from watcher.record.clip import ClipError, ClipWriter
from watcher.record.paths import event_paths
from watcher.record.snapshot import boxed, crop, write_jpeg
from watcher.source.base import Frame, Packet, StreamInfo
from watcher.source.pictures import luma, rgb
from watcher.store import SightingData, StoreWriter, to_blob

# Packets kept beyond pre_capture_s: analysis may lag the capture by this much
# and still find the arrival in the buffer.
_PREROLL_SLACK_S = 5.0
_HOST = socket.gethostname()
_MIN_FACE_SLACK = 0.8
_BETTER_CROP = 1.15  # a stranger's face is cropped again only when this much bigger


@dataclass
class CameraStats:
    """Counters of the analysis side, for status lines and benchmarks."""

    analysed: int = 0  # frames analysed
    gated: int = 0  # of those, frames where nothing moved: no face search at all
    embeddings: int = 0  # faces embedded


class CameraPipeline:
    """Turns one camera's packets and analysed frames into events, clips and rows."""

    def __init__(
        self,
        camera: CameraConfig,
        recordings: Path,
        engine: FaceEngine,
        gallery: Callable[[], Gallery],
        store: StoreWriter,
        on_finished: Callable[[FinishedEvent], None] | None = None,
        on_storage_error: Callable[[], None] | None = None,
        alert_names: frozenset[str] = frozenset(),
        learn: Callable[[str, Embeddings, str], None] | None = None,
    ) -> None:
        """`learn(person, embedding, camera)` is offered the looks of known people
        that the decider is sure of (see decide/learning.py); it must not block."""
        self.camera = camera
        self.learn = learn if camera.faces.learn else None
        self.name = camera.name
        self.recordings = recordings
        self.engine = engine
        self.gallery = gallery
        self.store = store
        self.on_finished = on_finished
        self.on_storage_error = on_storage_error  # e.g. wake retention to make room
        self.log = logging.getLogger(f"watcher.camera.{self.name}")
        self.clock = MediaClock()
        self.preroll = PrerollBuffer(camera.record.pre_capture_s + _PREROLL_SLACK_S)
        self.decider = Decider(
            camera.faces.confirm_frames,
            refresh_s=camera.faces.refresh_s,
            alert_names=alert_names,
            evidence_looks=camera.faces.evidence_looks,
            embeddings_per_s=camera.faces.embeddings_per_s,
        )
        self._rule: tuple[Gallery, OpenSetRule] | None = None
        self.info: StreamInfo | None = None
        self.event: ActiveEvent | None = None
        self.stats = CameraStats()
        motion = camera.motion
        self.planner = ScanPlanner(camera.faces.min_face_px)
        self.gate = (
            MotionGate(motion.frame_height, motion.threshold, motion.min_area)
            if motion.enabled
            else None
        )
        self._lock = threading.RLock()
        self._generation = 0  # bumped at every connection and loss
        self._reset_pending = False
        self._analysed_t = float("-inf")  # media time of the latest analysed frame

    # -- stream ---------------------------------------------------------
    def start_stream(self, info: StreamInfo, clock: MediaClock | None = None) -> None:
        """A (new) connection: old packets cannot be joined to the new stream."""
        with self._lock:
            if self.event is not None:
                self._finish(self.event)
            self.info = info
            self.preroll.clear()
            self.clock = clock or MediaClock()
            self._generation += 1
            # Tracks and the motion background are the analysis thread's: it
            # resets them itself before its next frame, never under its feet.
            self._reset_pending = True

    def end_stream(self) -> None:
        """The stream ended or dropped: the open event ends at its last frame."""
        with self._lock:
            if self.event is not None:
                self._finish(self.event)
            self.info = None  # no event can open until the next connection
            self.preroll.clear()
            self._generation += 1

    # -- packets (capture side) -------------------------------------------
    def on_packets(self, packets: list[Packet]) -> None:
        """Buffer packets and append them to the clip in progress."""
        with self._lock:
            for packet in packets:
                self.preroll.push(packet)
                event = self.event
                if event is None:
                    continue
                # The analysis lags the capture: end only once it has looked past
                # the deadline too, or a slow analysis would split one visit in many.
                if packet.t > event.deadline_t and self._analysed_t > event.deadline_t:
                    self._finish(event)
                    continue
                clip = event.clip
                if clip and packet.keyframe and clip.duration_s >= self.camera.record.max_clip_s:
                    self._roll_over(event, packet)
                    continue
                self._write(event, packet)

    def _write(self, event: ActiveEvent, packet: Packet) -> None:
        if event.clip is None:
            return
        try:
            event.clip.write(packet)
            if event.clip_first_t is None and event.clip.first_t is not None:
                # Stored at once: after a crash, recovery finds the clip and its start.
                self.store.update_event(
                    event.id,
                    clip_path=str(event.paths.clip),
                    clip_started_at=self.clock.wall(event.clip.first_t),
                )
            event.clip_first_t, event.clip_last_t = event.clip.first_t, event.clip.last_t
        except ClipError as exc:
            # A full disk ends this clip (playable up to its last fragment); the
            # event and the analysis go on, and the next event tries again.
            self.log.error("%s; clip ended early, the event goes on", exc)
            event.clip.close()
            event.clip = None
            self._storage_error()

    def _storage_error(self) -> None:
        if self.on_storage_error is not None:
            self.on_storage_error()

    def _roll_over(self, event: ActiveEvent, keyframe: Packet) -> None:
        """At max_clip_s: close this clip and continue in a new event from this keyframe."""
        deadline = event.deadline_t
        self._finish(event)
        # No pre-roll: the previous clip already holds it; start at this keyframe.
        self._open_event(keyframe.t, deadline, [], pre_capture_s=0.0)

    # -- frames (analysis side) -------------------------------------------
    def analyse(self, frame: Frame) -> None:
        """Find faces where something moved, embed the ones not yet judged, decide."""
        faces, t = self.camera.faces, frame.t
        with self._lock:
            generation, reset, self._reset_pending = self._generation, self._reset_pending, False
        if reset:
            self.decider.tracks.clear()  # after an outage, faces are judged afresh
            if self.gate is not None:
                self.gate.reset()
        grey = luma(frame.image)
        boxes = self._detect(grey, faces.min_face_px, t)
        tracks = self.decider.assign(t, boxes, (grey.shape[1], grey.shape[0]))
        todo = [i for i, tr in enumerate(tracks) if self.decider.needs_embedding(tr, t)]
        fresh: list[Observation | None] = [None] * len(tracks)
        picture: RGBImage | None = None
        if todo:
            picture = rgb(frame.image)
            vectors, points = self.engine.embed_faces(picture, [boxes[i] for i in todo])
            self.stats.embeddings += len(todo)
            for i, vector, marks in zip(todo, vectors, points, strict=True):
                look = measure(grey, boxes[i], marks)
                # The crop is kept by the decider only if the face is not known.
                fresh[i] = Observation(vector, look, crop(picture, boxes[i]))
        decision = self.decider.judge(t, tracks, fresh, self.rule())
        if self.learn is not None:
            for person, vector in decision.lessons:
                self.learn(person, vector, self.name)
        self.stats.analysed += 1
        with self._lock:
            if generation != self._generation or self.info is None:
                return  # the stream dropped (or restarted) while this frame was analysed
            self._analysed_t = max(self._analysed_t, t)
            event = self.event
            if event is None and decision.confirmed:
                first = min(tr.first_unknown_t for tr in decision.confirmed)
                earlier = [s for tr in decision.confirmed for s in tr.pending]
                event = self._open_event(first, t + self.camera.record.post_capture_s, earlier)
            if event is not None and decision.confirmed and event.decision is None:
                event.decision = "; ".join(tr.why or "unknown" for tr in decision.confirmed)
                self.store.update_event(event.id, decision=event.decision)
                self.log.info("event %s: %s", event.id, event.decision)
            if event is None:
                return
            if decision.stranger_in_view:
                event.deadline_t = max(event.deadline_t, t + self.camera.record.post_capture_s)
                if event.snapshot is None and event.snapshot_error is None:
                    strangers = [tr for tr in tracks if tr.confirmed]
                    self._snapshot(
                        event, picture if picture is not None else rgb(frame.image), strangers
                    )
            self._add_sightings(event, decision.sightings)

    def rule(self) -> OpenSetRule:
        """The open-set rule of the current gallery (refitted when the gallery is reloaded)."""
        gallery = self.gallery()
        if self._rule is None or self._rule[0] is not gallery:
            faces = self.camera.faces
            names, matrix, photos = gallery.rows()
            rule = OpenSetRule(
                names,
                matrix,
                faces.tolerance,
                per_person=faces.rule == "open_set",
                reference=photos,
            )
            self._rule = (gallery, rule)
        return self._rule[1]

    def _detect(self, grey: GreyImage, min_face_px: int, t: float) -> list[Box]:
        """Face boxes in the regions worth searching now (all of the frame without the gate)."""
        height, width = grey.shape[:2]
        if self.gate is None:
            regions = [(Box(0, width, height, 0), min_face_px)]
        else:
            people = [body_area(tr.box) for tr in self.decider.tracks]
            motion = self.gate.regions(grey, people)
            if self.gate.scene_changed:
                # A new picture: whoever is in it is found and judged afresh, so no
                # track carries one person's name onto another's face.
                self.decider.tracks.clear()
            regions = self.planner.plan(
                t, motion, self.decider.tracks, width, height, self.gate.scene_changed
            )
            if not regions:
                self.stats.gated += 1
                return []
        # The detector's window is coarse: a face a little under the minimum still counts.
        boxes = self.engine.detect(grey, min_face_px, regions)
        return [b for b in boxes if box_height(b) >= min_face_px * _MIN_FACE_SLACK]

    # -- events -----------------------------------------------------------
    def _open_event(
        self,
        start_t: float,
        deadline_t: float,
        earlier: list[Sighting],
        pre_capture_s: float | None = None,
    ) -> ActiveEvent:
        started_at = self.clock.wall(start_t)
        event_id = new_event_id()
        event = ActiveEvent(
            id=event_id,
            camera=self.name,
            start_t=start_t,
            started_at=started_at,
            paths=event_paths(self.recordings, self.name, started_at, event_id),
            deadline_t=deadline_t,
        )
        self.event = event
        self.store.open_event(event_id, self.name, started_at, host=_HOST)
        self.log.info("event %s: unknown face at %.1f s, recording", event_id, start_t)
        if self.info is not None:
            try:
                event.clip = ClipWriter(event.paths.clip, self.info)
            except ClipError as exc:
                self.log.error("%s; the event is kept without a clip", exc)
                self._storage_error()
        pre = self.camera.record.pre_capture_s if pre_capture_s is None else pre_capture_s
        for packet in self.preroll.since(start_t - pre):
            self._write(event, packet)
        self._add_sightings(event, earlier)
        return event

    def _snapshot(self, event: ActiveEvent, rgb: RGBImage, strangers: list[Track]) -> None:
        if not strangers:
            return
        try:
            write_jpeg(event.paths.snapshot, boxed(rgb, [tr.box for tr in strangers]))
            event.snapshot = event.paths.snapshot
            biggest = max(strangers, key=lambda tr: tr.box[2] - tr.box[0])
            write_jpeg(event.paths.face, crop(rgb, biggest.box))
            event.face = event.paths.face
        except OSError as exc:
            self.log.error("event %s: snapshot not written: %s", event.id, exc)
            event.snapshot_error = str(exc)  # tried once per event: no error per frame
            self._storage_error()
            return
        self.store.update_event(
            event.id, snapshot_path=str(event.snapshot), face_path=str(event.face)
        )

    def _add_sightings(self, event: ActiveEvent, sightings: list[Sighting]) -> None:
        """Keep sightings in the event and the database; strangers' faces with a crop file."""
        if not sightings:
            return
        event.add(sightings)
        rows = []
        for s in sightings:
            blob, crop_path = None, None
            if s.evidence is not None:
                blob = to_blob(s.evidence.embedding)
                crop_path = self._crop_file(event, s)
            rows.append(
                SightingData(
                    at=self.clock.wall(s.t),
                    offset_s=s.t - event.start_t,
                    box=s.box,
                    name=s.name,
                    distance=s.distance,
                    embedding=blob,
                    crop_path=crop_path,
                    note=s.note,
                )
            )
        self.store.add_sightings(event.id, rows)

    def _crop_file(self, event: ActiveEvent, sighting: Sighting) -> str | None:
        """Save a stranger's face crop beside the clip, when it is a better look than the last."""
        assert sighting.evidence is not None
        height = box_height(sighting.box)
        if height < event.cropped.get(sighting.track_id, 0) * _BETTER_CROP:
            return None
        event.cropped[sighting.track_id] = height
        clip = event.paths.clip
        path = clip.with_name(f"{clip.stem}-face-{len(event.cropped_files) + 1}.jpg")
        try:
            write_jpeg(path, sighting.evidence.crop)
        except OSError as exc:
            self.log.warning("event %s: face crop not written: %s", event.id, exc)
            return None
        event.cropped_files.append(path)
        return str(path)

    def _finish(self, event: ActiveEvent) -> None:
        """Close the clip and the event row; the event ends at its clip's last frame."""
        self.event = None
        if event.clip is not None:
            event.clip.close()
            event.clip = None
        if event.clip_last_t is not None:
            end_t = max(event.start_t, event.clip_last_t)
        else:
            end_t = max([event.start_t, *(s.t for s in event.sightings)])
        status = EVENT_CLOSED if event.clip_last_t is not None else EVENT_NO_CLIP
        clip_path = str(event.paths.clip) if event.clip_last_t is not None else None
        # The clock's mapping may have moved since the event opened (a reconnect, a
        # late burst): an end before the start would be a lie in every listing.
        ended_at = max(event.started_at, self.clock.wall(end_t))
        self.store.close_event(
            event.id,
            ended_at,
            status=status,
            clip_path=clip_path,
            faces=event.faces,
            closest_distance=event.closest,
        )
        self.log.info("event %s: ended after %.1f s (%s)", event.id, end_t - event.start_t, status)
        if self.on_finished is not None:
            self.on_finished(
                FinishedEvent(
                    id=event.id,
                    camera=self.name,
                    start_s=event.start_t,
                    end_s=end_t,
                    clip_start_s=event.clip_first_t if clip_path else None,
                    clip=clip_path,
                    snapshot=None if event.snapshot is None else str(event.snapshot),
                    status=status,
                    faces=list(event.sightings),
                    decision=event.decision,
                )
            )
