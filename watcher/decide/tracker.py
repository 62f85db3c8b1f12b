"""Follows faces across analysed frames and decides, on evidence, who each face is.

Each track keeps a window of its recent usable looks (decide/evidence.py) and is
judged on them by the open-set rule (decide/openset.py) after every fresh look:
a stranger needs `confirm_frames` looks (one more when all are poor), so one bad
frame never starts a recording; a known verdict can still turn into a stranger
when later good looks disagree, and a stranger's into a known person.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from watcher.core import Box, Embeddings, RGBImage, box_height
from watcher.decide.evidence import Finding, LookWindow, Observation, enough
from watcher.decide.learning import lesson
from watcher.faces.openset import Kind, OpenSetRule
from watcher.faces.quality import is_cut
from watcher.motion.following import MAX_PREDICTED_SHIFT, centre_shift, expected_box, velocity

# Boxes of one face in consecutive analyses overlap at least this much (IoU).
# Low on purpose: HOG boxes jump between pyramid levels.
_MIN_IOU = 0.2
# ...or their centres are this close, in face sizes: a person walking past
# moves more than a face width between two analyses.
_MAX_CENTRE_SHIFT = 1.5
# A face cut by the frame's edge (walking in or out) is not embedded: half a
# face embeds to noise, which could count toward a stranger or waste 75 ms.
# A face that stays cut this long (a camera that crops heads) is embedded anyway.
_CUT_PATIENCE_S = 1.0
UNCLEAR_EMBED_INTERVAL_S = 1.0
# Sightings kept of a face not yet decided (they become the event's first rows and
# date its start): a face unclear for an hour must not grow without bound. 60 is
# 12 s at 5 analysed frames a second, more than the pre-roll buffer holds anyway.
MAX_PENDING = 60


@dataclass(frozen=True)
class Sighting:
    """One face in one analysed frame, and what was made of it."""

    t: float
    box: Box
    name: str | None  # the track's known person, if any
    distance: float | None  # this look's distance to the nearest person
    track_id: int
    # Only for a stranger's face embedded in this very frame: kept (in the
    # database, with a crop) to recognise the same stranger across events.
    evidence: Evidence | None = field(default=None, compare=False, repr=False)
    note: str | None = None  # why this look did not count, or the verdict it led to


@dataclass(frozen=True)
class Evidence:
    """A fresh embedding of a stranger's face and the pixels it came from."""

    embedding: Embeddings
    crop: RGBImage


@dataclass
class Track:
    """One face followed across analysed frames."""

    id: int
    box: Box
    last_t: float
    looks: LookWindow
    name: str | None = None  # the known person, while the evidence says so
    confirmed: bool = False  # a confirmed stranger (or watch-listed person)
    alert_run: int = 0  # consecutive analyses as a watch-listed person
    pending: list[Sighting] = field(default_factory=list)  # sightings before confirmation
    finding: Finding | None = None  # the latest verdict on the evidence
    why: str | None = None  # the finding that confirmed it, for the event's record
    last_distance: float | None = None  # the latest look's distance to the nearest person
    embedded_t: float | None = None  # when it was last embedded
    embedded_height: int = 0  # face height at that embedding
    velocity: tuple[float, float] = (0.0, 0.0)  # of the box's centre (down, right), px/s
    cut_since: float | None = None  # since when the face is cut by the frame's edge
    hits: int = 1  # analyses in which the face was found

    @property
    def first_unknown_t(self) -> float:
        """When this track's sightings before confirmation began."""
        return self.pending[0].t if self.pending else self.last_t

    decided: bool = False  # a stranger, or known on enough good looks
    taught: bool = False  # a look of this visit was offered to be learned

    @property
    def settled(self) -> bool:
        """Decided on good looks: a new embedding is no longer needed every frame
        (a face called a stranger on poor looks is still looked at closely)."""
        return self.decided and (self.finding is None or self.finding.good)


@dataclass
class Decision:
    """What one analysed frame changed."""

    sightings: list[Sighting]
    confirmed: list[Track]  # tracks that just became confirmed strangers
    stranger_in_view: bool  # some confirmed stranger is in this frame
    # Looks of known people this frame's verdicts are sure of: (person, embedding).
    lessons: list[tuple[str, Embeddings]] = field(default_factory=list)


class Decider:
    """Turns tracked faces' looks into verdicts: known, confirmed stranger, or not yet."""

    def __init__(
        self,
        confirm_frames: int,
        track_timeout_s: float = 2.0,
        refresh_s: float = 10.0,
        alert_names: frozenset[str] = frozenset(),
        evidence_looks: int = 6,
        embeddings_per_s: float = 5.0,
    ) -> None:
        self.confirm_frames = confirm_frames
        # Known people on the watch-list: they start events as strangers do.
        self.alert_names = alert_names
        self.track_timeout_s = track_timeout_s
        self.refresh_s = refresh_s
        self.evidence_looks = evidence_looks
        # The budget of an undecided face: at most this many embeddings a second.
        self.embed_interval_s = 1.0 / embeddings_per_s
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def drop_stale(self, t: float) -> None:
        """Forget the faces not seen for longer than `track_timeout_s` before `t`."""
        self.tracks = [tr for tr in self.tracks if t - tr.last_t <= self.track_timeout_s]

    def assign(
        self, t: float, boxes: list[Box], frame_size: tuple[int, int] | None = None
    ) -> list[Track]:
        """The track each box continues (a new one when none), after dropping stale tracks.

        `frame_size` (width, height) tells which faces the frame's edge cuts.
        """
        self.drop_stale(t)
        free = list(self.tracks)
        out = []
        for box in boxes:
            track = self._claim(free, box, t)
            if track is None:
                track = Track(next(self._ids), box, t, LookWindow(self.evidence_looks))
                self.tracks.append(track)
            else:
                free.remove(track)
                track.velocity = velocity(track.box, box, t - track.last_t)
                track.hits += 1
            track.box, track.last_t = box, t
            cut = frame_size is not None and is_cut(box, *frame_size)
            track.cut_since = (t if track.cut_since is None else track.cut_since) if cut else None
            out.append(track)
        return out

    def needs_embedding(self, track: Track, t: float) -> bool:
        """Whether this face must be embedded now, or its track's verdict still holds.

        An undecided face is embedded within its budget (`embeddings_per_s`); a
        decided one again only every `refresh_s` or when the face grew (came
        closer: a better look): a known person standing in view for a minute costs
        a few embeddings, not hundreds.
        """
        if track.cut_since is not None and t - track.cut_since < _CUT_PATIENCE_S:
            return False  # wait until the whole face is in view
        if track.embedded_t is None:
            return True
        if not track.settled:
            interval = self.embed_interval_s
            if len(track.looks.good) >= self.evidence_looks:
                # A full window of good looks and still unclear (a relative halfway
                # between two people): more looks like these change little, so they
                # come at most once a second, not at the full budget.
                interval = max(interval, UNCLEAR_EMBED_INTERVAL_S)
            # A hair under the interval still counts: frame times jitter.
            return t - track.embedded_t >= interval * 0.9
        if t - track.embedded_t >= self.refresh_s:
            return True
        return box_height(track.box) > 1.3 * track.embedded_height

    def judge(
        self,
        t: float,
        tracks: list[Track],
        fresh: list[Observation | None],
        rule: OpenSetRule,
    ) -> Decision:
        """Add each track's fresh look (None: none this frame) to its evidence and decide."""
        sightings: list[Sighting] = []
        confirmed: list[Track] = []
        lessons: list[tuple[str, Embeddings]] = []
        stranger = False
        for track, obs in zip(tracks, fresh, strict=True):
            note = None
            cut_s = t - track.cut_since if track.cut_since is not None else 0.0
            if obs is not None and obs.look.cut and cut_s >= _CUT_PATIENCE_S:
                # Cut this long: a camera that crops heads. Judged as it is.
                obs = replace(obs, look=replace(obs.look, cut=False))
            if obs is not None:
                track.embedded_t, track.embedded_height = t, box_height(track.box)
                track.last_distance = rule.judge(obs.embedding).distance
                note = track.looks.add(obs)
                if note is None:
                    if self._weigh(track, rule):
                        confirmed.append(track)
                    note = track.finding.explain() if track.finding else None
                    lessons.extend(self._lesson(track, rule))
            if track.embedded_t is None:
                continue  # never embedded yet (cut by the edge): no sighting
            kept = None
            if obs is not None and obs.crop is not None and track.name is None:
                kept = Evidence(obs.embedding, obs.crop)
            sighting = Sighting(t, track.box, track.name, track.last_distance, track.id, kept, note)
            sightings.append(sighting)
            if track.name in self.alert_names and not track.confirmed:
                # A watch-listed person counts every analysed frame, as a stranger's look.
                track.alert_run += 1
                if track.alert_run >= self.confirm_frames:
                    track.confirmed = track.decided = True
                    track.why = f"watch-list: {track.name}"
                    confirmed.append(track)
            if track.confirmed:
                stranger = True
            elif not track.decided or track.name is None:
                track.pending.append(sighting)
                if len(track.pending) > MAX_PENDING:
                    del track.pending[0]
        return Decision(sightings, confirmed, stranger, lessons)

    @staticmethod
    def _lesson(track: Track, rule: OpenSetRule) -> list[tuple[str, Embeddings]]:
        """At most one look per visit, once it is decided known and sure."""
        if track.taught or not track.decided or track.name is None or track.finding is None:
            return []
        look = lesson(track.finding, track.looks, rule)
        if look is None:
            return []
        track.taught = True
        return [(track.name, look)]

    def _weigh(self, track: Track, rule: OpenSetRule) -> bool:
        """Judge the track's evidence anew; True when it has just become a stranger."""
        finding = track.looks.finding(rule, self.confirm_frames)
        track.finding = finding
        if finding is None:
            return False
        kind = finding.verdict.kind
        if kind is Kind.KNOWN:
            if track.name != finding.verdict.name:
                track.alert_run = 0
            track.name = finding.verdict.name
            if track.name not in self.alert_names:
                # The reverse turn: the good looks now say a known person.
                track.confirmed = False
            sure = finding.good and enough(finding, self.confirm_frames)
            track.decided = track.confirmed or sure
            if track.decided and not track.confirmed:
                track.pending = []
            return False
        if kind is Kind.UNCLEAR or not enough(finding, self.confirm_frames):
            return False
        # Unknown on enough looks: a stranger, even if taken for someone before.
        track.name = None
        track.decided = True
        if track.confirmed:
            return False
        track.confirmed = True
        track.why = finding.explain()
        return True

    def update(self, t: float, faces: list[tuple[Box, Observation]], rule: OpenSetRule) -> Decision:
        """Assign and judge in one step, every face freshly embedded."""
        tracks = self.assign(t, [box for box, _ in faces])
        return self.judge(t, tracks, [obs for _, obs in faces], rule)

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
