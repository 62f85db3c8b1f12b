"""One camera's pipeline: packets feed the pre-roll and the clip; analysed frames drive events.

Packets and frames may arrive on different threads (capture and analysis); one
lock guards the event state they share, and nothing under it touches the disk:
the event's files are its recorder's (record/recorder.py). Every decision uses
media time, so a live camera and `watcher replay` of the same footage decide the
same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watcher.buffer.preroll import PrerollBuffer
from watcher.config import CameraConfig
from watcher.core import Box, Embeddings, FaceEngine, RGBImage, box_height
from watcher.decide.evidence import Observation
from watcher.decide.tracker import Decider, Track
from watcher.faces.gallery import Gallery
from watcher.faces.openset import OpenSetRule
from watcher.faces.quality import measure
from watcher.motion.gate import GreyImage, MotionGate
from watcher.motion.planner import ScanPlanner, body_area
from watcher.pipeline.clock import MediaClock
from watcher.pipeline.eventing import EventKeeper
from watcher.pipeline.events import ActiveEvent, FinishedEvent
from watcher.pipeline.main_picture import MainPictures, embedding_picture, scaled
from watcher.pipeline.pacing import slow_lane_interval
from watcher.record.recorder import EventRecorder
from watcher.record.snapshot import crop
from watcher.source.base import Frame, Packet, StreamInfo
from watcher.source.limiter import DecodeLimiter
from watcher.source.pictures import luma
from watcher.store import StoreWriter

# Packets kept beyond pre_capture_s: analysis may lag the capture by this much
# and still find the arrival in the buffer.
_PREROLL_SLACK_S = 5.0
# A known person's presence (MQTT `<prefix>/people/<name>`) is told at most this often.
PRESENCE_EVERY_S = 60.0
_MIN_FACE_SLACK = 0.8
# Limited decoding (source/limiter.py): every frame is decoded for this long (media
# seconds) after analysis last saw new motion or a face (an open event holds nothing
# by itself: its clip is copied from the packets, never decoded); then keyframes
# only. Long enough to bridge a still moment of someone who is there (a pause at the
# door), short next to the minutes of an empty scene. Not waited out when the
# picture shows no one is there (`_nobody_there`).
EVERY_FRAME_HOLD_S = 4.0


@dataclass
class CameraStats:
    """Counters of the analysis side, for status lines and benchmarks."""

    analysed: int = 0  # frames analysed
    gated: int = 0  # of those, frames where nothing moved: no face search at all
    embeddings: int = 0  # faces embedded
    # Pixels of the regions handed to the face detector, at the frame's resolution (the
    # engine may search them scaled down, for the smallest face it is asked to find).
    searched_pixels: int = 0


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
        seen: Callable[[str, str], None] | None = None,
        may_record: Callable[[], bool] | None = None,
    ) -> None:
        """`learn(person, embedding, camera)` is offered the looks of known people
        that the decider is sure of (see decide/learning.py); it must not block.
        `seen(person, camera)` is told that a known person was recognised (presence),
        at most once per PRESENCE_EVERY_S a person; it must not block either.
        `may_record()` False (a camera disarmed with notify.record_when_disarmed off)
        opens no event; faces are judged all the same."""
        self.seen = seen
        self.may_record = may_record
        self._held_back = False  # a stranger was not recorded (disarmed): said once
        self._told: dict[str, float] = {}  # person -> media time last told
        self.camera = camera
        self.learn = learn if camera.faces.learn else None
        self.name = camera.name
        self.recordings = recordings
        self.engine = engine
        self.gallery = gallery
        self.store = store
        self.log = logging.getLogger(f"watcher.camera.{self.name}")
        # on_storage_error: e.g. wake retention to make room.
        self.recorder = EventRecorder(self.name, store, on_storage_error)
        self.events = EventKeeper(camera, recordings, store, self.recorder, on_finished, self.log)
        self.clock = MediaClock()
        self.preroll = PrerollBuffer(camera.record.pre_capture_s + _PREROLL_SLACK_S)
        self.decider = Decider(
            camera.faces.confirm_frames,
            refresh_s=camera.faces.refresh_s,
            alert_names=alert_names | gallery().watched,
            evidence_looks=camera.faces.evidence_looks,
            embeddings_per_s=camera.faces.embeddings_per_s,
        )
        self._rule: tuple[Gallery, OpenSetRule] | None = None
        self._config_alerts = alert_names  # the config's watch-list; the gallery's joins it
        self.info: StreamInfo | None = None
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
        # The newest frame handed on toward analysis (the capture's side writes it), and
        # the newest analysis is done with, analysed or passed over (analysis writes it).
        self._offered_t = float("-inf")
        self._consumed_t = float("-inf")
        # Shared with the camera's source: what it decodes (None: every frame).
        self.limiter = DecodeLimiter() if camera.decoding == "limited" else None
        self._stirring = False  # the latest analysed frame showed new motion
        self._gated_t: float | None = None  # media time of the motion gate's latest frame
        # With a detect_source, faces are found in its frames and embedded from the
        # main stream's picture at the same moment.
        self.main_pictures = MainPictures(self.preroll) if camera.detect_source else None

    @property
    def event(self) -> ActiveEvent | None:
        """The event being recorded now, if any."""
        return self.events.event

    def active_clips(self) -> set[Path]:
        """Clips being written (or about to be): retention never touches them."""
        event = self.events.event
        return self.recorder.active_clips() | ({event.paths.clip} if event else set())

    def close(self, timeout_s: float = 10.0) -> bool:
        """Finish the recorder's queued work (after end_stream); False if it is stuck."""
        return self.recorder.stop(timeout_s)

    # -- stream ---------------------------------------------------------
    def start_stream(self, info: StreamInfo, clock: MediaClock | None = None) -> None:
        """A (new) connection: old packets cannot be joined to the new stream."""
        with self._lock:
            self.events.finish()
            self.info = info
            self.preroll.clear()
            self.clock = clock or MediaClock()
            if self.main_pictures is not None:
                self.main_pictures.start(info)
            self._generation += 1
            # A new connection's media times may start again from zero.
            self._analysed_t = self._offered_t = self._consumed_t = float("-inf")
            # Tracks and the motion background are the analysis thread's: it
            # resets them itself before its next frame, never under its feet.
            self._reset_pending = True

    def end_stream(self) -> None:
        """The stream ended or dropped: the open event ends at its last frame."""
        with self._lock:
            self.events.finish()
            self.info = None  # no event can open until the next connection
            self.preroll.clear()
            self._generation += 1

    # -- packets (capture side) -------------------------------------------
    def on_packets(self, packets: list[Packet]) -> None:
        """Buffer packets and hand those of the event in progress to its clip."""
        with self._lock:
            for packet in packets:
                self.preroll.push(packet)
            if self.events.event is not None:
                analysed = float("inf") if self._seen_all(packets) else self._analysed_t
                self.events.packets(packets, analysed, self._roll_over)

    def _seen_all(self, packets: list[Packet]) -> bool:
        """Analysis is done with every frame handed on, only keyframes are decoded, and
        analysis asks for no more: it sees nothing newer until a keyframe, or a cue (which
        decodes every frame again). An open event may then end at its deadline instead of
        at the next keyframe's analysis."""
        limiter = self.limiter
        if limiter is None or not packets or not limiter.keyframes_only:
            return False
        if self._consumed_t < self._offered_t:
            return False
        # The main stream's time is analysis time; the limiter may be a sub-stream's.
        return not limiter.wants_every_frame(packets[-1].t - limiter.analysis_offset)

    def offered(self, t: float) -> None:
        """A frame of media time `t` was handed on toward analysis (capture's side)."""
        self._offered_t = max(self._offered_t, t)

    def passed(self, t: float) -> None:
        """Analysis took the frame of media time `t` and left it (not due at its pace)."""
        with self._lock:
            self._consumed_t = max(self._consumed_t, t)

    def _roll_over(self, keyframe: Packet) -> None:
        """At max_clip_s: close this clip and continue in a new event from this keyframe."""
        event = self.events.event
        assert event is not None
        deadline = event.deadline_t
        self.events.finish()
        # No pre-roll: the previous clip already holds it; start at this keyframe.
        self.events.open(keyframe.t, deadline, [], self.info, self.clock, [keyframe])

    # -- frames (analysis side) -------------------------------------------
    def analyse(self, frame: Frame) -> None:
        """Find faces where something moved, embed the ones not yet judged, decide."""
        faces, t = self.camera.faces, frame.t
        with self._lock:
            generation, reset, self._reset_pending = self._generation, self._reset_pending, False
        if reset:
            self.decider.tracks.clear()  # after an outage, faces are judged afresh
            self._gated_t = None
            if self.gate is not None:
                self.gate.reset()
        grey = luma(frame.image)
        boxes = self._detect(grey, faces.min_face_px, t)
        tracks = self.decider.assign(t, boxes, (grey.shape[1], grey.shape[0]))
        todo = [i for i, tr in enumerate(tracks) if self.decider.needs_embedding(tr, t)]
        fresh: list[Observation | None] = [None] * len(tracks)
        picture: RGBImage | None = None
        scale = 1.0  # from this frame's pixels to those of `picture`
        if todo:
            picture, look_grey, scale = embedding_picture(self.main_pictures, frame, grey)
            faces_at = [scaled(boxes[i], scale) for i in todo]
            vectors, points = self.engine.embed_faces(picture, faces_at)
            self.stats.embeddings += len(todo)
            for i, box, vector, marks in zip(todo, faces_at, vectors, points, strict=True):
                look = measure(look_grey, box, marks)
                # The crop is kept by the decider only if the face is not known.
                fresh[i] = Observation(vector, look, crop(picture, box))
        decision = self.decider.judge(t, tracks, fresh, self.rule())
        if self.limiter is not None and self._nobody_there():
            self.limiter.release(t)
        elif self.limiter is not None and (self._stirring or self.decider.tracks):
            # A frame of a connection that has since dropped says nothing of the new one.
            current = generation == self._generation
            if self.decider.tracks and self.limiter.keyframes_only and current:
                self.limiter.face_at_keyframe()
            # Counted from when analysis last saw what holds it: new motion now, or a
            # face when it was last found (a track searched for in vain since is kept
            # a while to be found again, but it is not someone seen).
            seen = max((tr.last_t for tr in self.decider.tracks), default=t)
            self.limiter.hold((t if self._stirring else seen) + EVERY_FRAME_HOLD_S)
        if self.learn is not None:
            for person, vector in decision.lessons:
                self.learn(person, vector, self.name)
        if self.seen is not None:
            self._tell_presence(tracks, t)
        self.stats.analysed += 1
        with self._lock:
            if generation != self._generation or self.info is None:
                return  # the stream dropped (or restarted) while this frame was analysed
            self._analysed_t = max(self._analysed_t, t)
            self._consumed_t = max(self._consumed_t, t)
            # Strangers just confirmed, or (armed again) ones held back while disarmed
            # and still followed (in view, if not searched this very frame).
            held = [tr for tr in self.decider.tracks if tr.confirmed] if self._held_back else []
            strangers = decision.confirmed or held
            if self.events.event is None and strangers:
                if not self._may_record():
                    return
                first = min(tr.first_unknown_t for tr in strangers)
                earlier = [s for tr in strangers for s in tr.pending]
                pre = self.preroll.since(first - self.camera.record.pre_capture_s)
                deadline = t + self.camera.record.post_capture_s
                why = "; ".join(tr.why or "unknown" for tr in strangers)
                self.events.open(first, deadline, earlier, self.info, self.clock, pre, why)
            event = self.events.event
            if event is None:
                return
            if decision.stranger_in_view:
                event.deadline_t = max(event.deadline_t, t + self.camera.record.post_capture_s)
                if not event.snapshot_taken:
                    if picture is None:
                        picture, _, scale = embedding_picture(self.main_pictures, frame, grey)
                    boxes = [scaled(tr.box, scale) for tr in tracks if tr.confirmed]
                    shown = picture
                    self.events.snapshot(shown, boxes)
            self.events.add_sightings(decision.sightings)

    def _nobody_there(self) -> bool:
        """The picture is the scene's long look again, nothing new moves, and each face
        followed is lost (missed at its latest two searches: one miss is a blink of the
        detector): whoever held every-frame decoding has left. One who turned away and
        stayed differs from the long look, which never learns a followed person."""
        gate = self.gate
        if gate is None or not gate.at_rest or self._stirring:
            return False
        return all(self.planner.lost(tr) for tr in self.decider.tracks)

    def _tell_presence(self, tracks: list[Track], t: float) -> None:
        """A known person decided on good looks, at most once per PRESENCE_EVERY_S."""
        assert self.seen is not None
        for tr in tracks:
            if not tr.decided or tr.name is None:
                continue
            last = self._told.get(tr.name)
            if last is None or not 0 <= t - last < PRESENCE_EVERY_S:
                self._told[tr.name] = t
                self.seen(tr.name, self.name)

    def _may_record(self) -> bool:
        """Whether an event may open now; a refusal is logged once until recording resumes."""
        allowed = self.may_record is None or self.may_record()
        if not allowed and not self._held_back:
            self.log.info("a stranger is in view, not recorded: the camera is disarmed")
        self._held_back = not allowed
        return allowed

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
            self.decider.alert_names = self._config_alerts | gallery.watched
        return self._rule[1]

    def set_alert_names(self, names: frozenset[str]) -> None:
        """The config's watch-list changed (a reload); the gallery's markers still count."""
        self._config_alerts = names
        self.decider.alert_names = names | self.gallery().watched

    def _detect(self, grey: GreyImage, min_face_px: int, t: float) -> list[Box]:
        """Face boxes in the regions worth searching now (all of the frame without the gate)."""
        height, width = grey.shape[:2]
        if self.gate is None:
            regions = [(Box(0, width, height, 0), min_face_px)]
            self._stirring = False  # no gate: only faces hold every-frame decoding
        else:
            # Faces gone past the tracks' timeout (analyses seconds apart: keyframes only)
            # are neither searched for nor explain motion where their bodies were.
            self.decider.drop_stale(t)
            people = [body_area(tr.box) for tr in self.decider.tracks]
            # Only keyframes decoded: analyses seconds apart, the gate weighs them so.
            span = t - self._gated_t if self._gated_t is not None else None
            self._gated_t = t
            motion = self.gate.regions(grey, people, span)
            # Routine motion (leaves, a screen, the wall where someone stood) alone never
            # holds every-frame decoding: the scene's own changes are what keyframes-only
            # decoding is for. Nor does the first frame (all of it is "new"): it is
            # searched whole, and a face found there holds every frame by its track.
            self._stirring = not self.gate.first_frame and (
                self.gate.scene_changed or any(not m.routine for m in motion)
            )
            if self.gate.scene_changed:
                # A new picture: whoever is in it is found and judged afresh, so no
                # track carries one person's name onto another's face.
                self.decider.tracks.clear()
            if self.limiter is not None:
                self.planner.pace_slow_lane(slow_lane_interval(self.limiter))
            regions = self.planner.plan(
                t, motion, self.decider.tracks, width, height, self.gate.scene_changed
            )
            if not regions:
                self.stats.gated += 1
                return []
        self.stats.searched_pixels += sum(
            (box[2] - box[0]) * (box[1] - box[3]) for box, _ in regions
        )
        # The detector's window is coarse: a face a little under the minimum still counts.
        boxes = self.engine.detect(grey, min_face_px, regions)
        return [b for b in boxes if box_height(b) >= min_face_px * _MIN_FACE_SLACK]
