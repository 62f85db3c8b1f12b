"""Follows faces across analysed frames and decides when a face is a confirmed stranger.

A face must stay unknown over `confirm_frames` consecutive analyses of the same
track before it counts: one frame's bad embedding never starts a recording. A
track that matched a known person once stays that person (a known resident
turning their head must not become a stranger).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from watcher.core import Box, Embeddings, RGBImage, box_height
from watcher.faces.gallery import Match

# Boxes of one face in consecutive analyses overlap at least this much (IoU).
# Low on purpose: HOG boxes jump between pyramid levels.
_MIN_IOU = 0.2
# ...or their centres are this close, in face widths: a person walking past
# moves more than a face width between two analyses.
_MAX_CENTRE_SHIFT = 1.5
# A face cut by the frame's edge (walking in or out) is not embedded: half a
# face embeds to noise, which could count toward a stranger or waste 75 ms.
# A face that stays cut this long (a camera that crops heads) is embedded anyway.
_CUT_PATIENCE_S = 1.0
_CUT_SHARE = 0.08  # a box clamped by more than this share of its size is a cut face
# A tracked face is expected to move on as it moved, by at most this many face widths.
MAX_PREDICTED_SHIFT = 1.5


@dataclass(frozen=True)
class Sighting:
    """One face in one analysed frame, and what the gallery said of it."""

    t: float
    box: Box
    name: str | None
    distance: float | None
    track_id: int
    # Only for a stranger's face embedded in this very frame: kept (in the
    # database, with a crop) to recognise the same stranger across events.
    evidence: Evidence | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Evidence:
    """A fresh embedding of a face and the pixels it came from."""

    embedding: Embeddings
    crop: RGBImage


@dataclass
class Track:
    """One face followed across analysed frames."""

    id: int
    box: Box
    last_t: float
    name: str | None = None  # the known person, once matched
    unknown_run: int = 0  # consecutive unknown analyses
    confirmed: bool = False  # a confirmed stranger
    pending: list[Sighting] = field(default_factory=list)  # unknown sightings before confirmation
    last_match: Match | None = None  # the latest embedding's verdict
    embedded_t: float | None = None  # when it was last embedded
    embedded_height: int = 0  # face height at that embedding
    velocity: tuple[float, float] = (0.0, 0.0)  # of the box's centre (down, right), px/s
    cut_since: float | None = None  # since when the face is cut by the frame's edge
    hits: int = 1  # analyses in which the face was found

    @property
    def first_unknown_t(self) -> float:
        """When this track's current run of unknown sightings began."""
        return self.pending[0].t if self.pending else self.last_t

    @property
    def settled(self) -> bool:
        """Known, or a confirmed stranger: a new embedding is no longer needed every frame."""
        return self.name is not None or self.confirmed


@dataclass
class Decision:
    """What one analysed frame changed."""

    sightings: list[Sighting]
    confirmed: list[Track]  # tracks that just became confirmed strangers
    stranger_in_view: bool  # some confirmed stranger is in this frame


class Decider:
    """Turns per-frame matches into confirmed strangers."""

    def __init__(
        self,
        confirm_frames: int,
        track_timeout_s: float = 2.0,
        refresh_s: float = 10.0,
        alert_names: frozenset[str] = frozenset(),
    ) -> None:
        self.confirm_frames = confirm_frames
        # Known people on the watch-list: they start events as strangers do.
        self.alert_names = alert_names
        self.track_timeout_s = track_timeout_s
        self.refresh_s = refresh_s
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def assign(
        self, t: float, boxes: list[Box], frame_size: tuple[int, int] | None = None
    ) -> list[Track]:
        """The track each box continues (a new one when none), after dropping stale tracks.

        `frame_size` (width, height) tells which faces the frame's edge cuts.
        """
        self.tracks = [tr for tr in self.tracks if t - tr.last_t <= self.track_timeout_s]
        free = list(self.tracks)
        out = []
        for box in boxes:
            track = self._claim(free, box, t)
            if track is None:
                track = Track(next(self._ids), box, t)
                self.tracks.append(track)
            else:
                free.remove(track)
                track.velocity = _velocity(track.box, box, t - track.last_t)
                track.hits += 1
            track.box, track.last_t = box, t
            cut = frame_size is not None and _touches_edge(box, *frame_size)
            track.cut_since = (t if track.cut_since is None else track.cut_since) if cut else None
            out.append(track)
        return out

    def needs_embedding(self, track: Track, t: float) -> bool:
        """Whether this face must be embedded now, or its track's verdict still holds.

        A settled track is embedded again only every `refresh_s` or when the face
        grew (came closer: a better look): a known person standing in view for a
        minute costs a few embeddings, not hundreds.
        """
        if track.cut_since is not None and t - track.cut_since < _CUT_PATIENCE_S:
            return False  # wait until the whole face is in view
        if not track.settled or track.embedded_t is None or track.last_match is None:
            return True
        if t - track.embedded_t >= self.refresh_s:
            return True
        return box_height(track.box) > 1.3 * track.embedded_height

    def judge(
        self,
        t: float,
        tracks: list[Track],
        matches: list[Match | None],
        evidence: list[Evidence | None] | None = None,
    ) -> Decision:
        """Record each track's verdict (None: reuse its last one) and decide."""
        sightings: list[Sighting] = []
        confirmed: list[Track] = []
        stranger = False
        proofs = evidence or [None] * len(tracks)
        for track, fresh, proof in zip(tracks, matches, proofs, strict=True):
            if fresh is not None:
                track.last_match, track.embedded_t = fresh, t
                track.embedded_height = box_height(track.box)
            if track.last_match is None:
                continue  # never embedded yet (cut by the edge): no verdict, no sighting
            match = track.last_match
            if match.name is not None:
                track.name = match.name
            kept = proof if fresh is not None and track.name is None else None
            sighting = Sighting(t, track.box, match.name, match.distance, track.id, kept)
            sightings.append(sighting)
            if track.name is not None and track.name not in self.alert_names:
                track.unknown_run, track.pending = 0, []
                continue
            if track.confirmed:
                stranger = True
                continue
            if fresh is None and track.name is None:
                # An unknown verdict carried over never counts twice toward
                # confirmation (a watch-listed name, once matched, does).
                track.pending.append(sighting)
                continue
            track.unknown_run += 1
            if track.unknown_run >= self.confirm_frames:
                track.confirmed = True
                confirmed.append(track)
                stranger = True
            else:
                track.pending.append(sighting)
        return Decision(sightings, confirmed, stranger)

    def update(self, t: float, faces: list[tuple[Box, Match]]) -> Decision:
        """Assign and judge in one step, every face freshly embedded."""
        tracks = self.assign(t, [box for box, _ in faces])
        return self.judge(t, tracks, [match for _, match in faces])

    @staticmethod
    def _claim(tracks: list[Track], box: Box, t: float) -> Track | None:
        """The free track this box most likely continues, if any.

        Measured from where each face should be by now (moving on as it moved),
        which is also where the planner searched for it.
        """
        best, best_score = None, 0.0
        for track in tracks:
            # Seen once, its motion is unknown: measured from where it was.
            expected = track.box if track.hits < 2 else expected_box(track, t, MAX_PREDICTED_SHIFT)
            overlap = Box(*expected).iou(box)
            shift = centre_shift(expected, box)
            if overlap < _MIN_IOU and shift > _MAX_CENTRE_SHIFT:
                continue
            score = overlap + 1.0 / (1.0 + shift)
            if score > best_score:
                best, best_score = track, score
        return best


def _touches_edge(box: Box, width: int, height: int) -> bool:
    """Cut by the frame's edge: dlib's face boxes are square, so a box clamped at an
    edge and clearly narrower (or shorter) than it is tall (or wide) lost part of
    the face; a whole face merely near the edge is not cut."""
    top, right, bottom, left = box
    if not (top <= 0 or left <= 0 or right >= width or bottom >= height):
        return False
    h, w = bottom - top, right - left
    return abs(h - w) > _CUT_SHARE * max(h, w)


def _velocity(before: Box, after: Box, dt: float) -> tuple[float, float]:
    """How fast a face's centre moved (down, right) in px/s; still when dt is zero."""
    if dt <= 0:
        return (0.0, 0.0)
    (y0, x0), (y1, x1) = Box(*before).centre, Box(*after).centre
    return ((y1 - y0) / dt, (x1 - x0) / dt)


def expected_box(track: Track, t: float, max_shift: float) -> Box:
    """Where the track's face should be at `t`, moving on as it did (capped at
    `max_shift` face widths). A face seen once has no known motion: it may be
    anywhere within `max_shift` widths, and the box returned spans all that."""
    top, right, bottom, left = track.box
    if track.hits < 2:
        reach = round(max_shift * (right - left))
        return Box(*track.box).grown(reach)
    dt = max(0.0, t - track.last_t)
    limit = max_shift * (right - left)
    dy = max(-limit, min(limit, track.velocity[0] * dt))
    dx = max(-limit, min(limit, track.velocity[1] * dt))
    return Box(round(top + dy), round(right + dx), round(bottom + dy), round(left + dx))


def centre_shift(a: Box, b: Box) -> float:
    """Distance between two boxes' centres, in widths of the first box."""
    ay, ax = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    by, bx = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    width = max(1, a[1] - a[3])
    return float(((ay - by) ** 2 + (ax - bx) ** 2) ** 0.5) / width
