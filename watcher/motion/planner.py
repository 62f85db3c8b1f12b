"""Plans where the face detector looks in each analysed frame, and how often.

Full-resolution HOG detection is the expensive step, so it is spent where a new
face can be: motion nobody explains yet is searched at once (an arrival), while
motion a tracked person explains (their own body moving), habitual motion
(leaves, water) and motion left behind (the wall where someone stood, as the
background catches up) are searched every two seconds, and faces already judged are
re-found only a few times a second to keep their tracks alive. A face that was
searched for and not found twice (it turned away, or its person left) is looked
for at that slower pace too, until its track expires; so is new motion that has
shown no face for three frames running (a back turned), until a face turns up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from watcher.core import Box
from watcher.motion.following import MAX_PREDICTED_SHIFT, Followed, expected_box
from watcher.motion.gate import MotionRegion
from watcher.motion.regions import SearchRegion, search_regions

# A person's body seen from a face box, in face sizes: two to each side (arms,
# a stride), one above, eight below.
_BODY_SIDE, _BODY_UP, _BODY_DOWN = 2.0, 1.0, 8.0
_EXPLAINED_SHARE = 0.6  # a moving region this much inside a tracked body is that body
# A face searched for this many times since it was last seen is lost: one miss
# (a blink of the detector, a turned head) keeps the every-frame pace.
_LOST_AFTER = 2
# New motion searched this many frames running without a new face is then searched
# at the settled pace: an arrival is still found within half a second.
_FRUITLESS_AFTER = 3
SLOW_LANE_S = 2.0  # explained and routine motion is searched this often


def body_area(face: Box) -> Box:
    """Where a tracked face's body is likely to move."""
    top, right, bottom, left = face
    h, w = bottom - top, right - left
    return Box(
        int(top - _BODY_UP * h),
        int(right + _BODY_SIDE * w),
        int(bottom + _BODY_DOWN * h),
        int(left - _BODY_SIDE * w),
    )


def _inside_share(box: Box, area: Box) -> float:
    top, bottom = max(box[0], area[0]), min(box[2], area[2])
    left, right = max(box[3], area[3]), min(box[1], area[1])
    inter = max(0, bottom - top) * max(0, right - left)
    size = max(1, (box[2] - box[0]) * (box[1] - box[3]))
    return inter / size


@dataclass
class ScanPlanner:
    """Decides the search regions of one frame from its motion and the live tracks."""

    min_face_px: int
    slow_interval_s: float = SLOW_LANE_S  # explained and habitual motion
    settled_interval_s: float = 0.4  # faces already judged
    _next_slow: float = float("-inf")
    _next_settled: float = float("-inf")
    # track id -> (when it was last seen, how often searched for since)
    _searched: dict[int, tuple[float, int]] = field(default_factory=dict)
    _seen_ids: set[int] = field(default_factory=set)  # the tracks of the previous plan
    _fruitless: int = 0  # frames running whose new motion was searched, no new face found
    _next_fruitless: float = float("-inf")

    def _new_motion(self, t: float, regions: list[Box], fruitful: bool) -> list[Box]:
        """Unexplained motion to search now: every frame, until searching it has found
        no new face several frames running (someone with their back turned, a
        person walking out); then at the settled pace, until a face turns up or the
        motion stops."""
        if fruitful or not regions:
            self._fruitless = 0
        if not regions:
            return []
        if self._fruitless >= _FRUITLESS_AFTER and t < self._next_fruitless:
            return []
        self._fruitless += 1
        if self._fruitless >= _FRUITLESS_AFTER:
            self._next_fruitless = t + self.settled_interval_s
        return regions

    def pace_slow_lane(self, interval_s: float) -> None:
        """Search explained and habitual motion every `interval_s` from now on; a
        quicker pace takes effect at once, not after the slower one's wait."""
        if interval_s < self.slow_interval_s:
            self._next_slow -= self.slow_interval_s - interval_s
        self.slow_interval_s = interval_s

    def _misses(self, track: Followed) -> int:
        seen, searches = self._searched.get(track.id, (track.last_t, 0))
        return searches if seen == track.last_t else 0

    def lost(self, track: Followed) -> bool:
        """Searched for repeatedly since it was last seen, and not found."""
        return self._misses(track) >= _LOST_AFTER

    def plan(
        self,
        t: float,
        motion: list[MotionRegion],
        tracks: Sequence[Followed],
        width: int,
        height: int,
        scene_changed: bool = False,
    ) -> list[SearchRegion]:
        """Regions to search now (empty: skip detection on this frame).

        On a cut (`scene_changed`: the picture is another one), no tracked person
        explains what moves and new motion is searched every frame again: anyone
        may be in the new picture.
        """
        slow_due = t >= self._next_slow
        settled_due = t >= self._next_settled
        lost = [self.lost(tr) for tr in tracks]
        slow_tracks = [tr.settled or gone for tr, gone in zip(tracks, lost, strict=True)]
        searched = [
            tr for tr, slow in zip(tracks, slow_tracks, strict=True) if settled_due or not slow
        ]
        faces = [(tr.box, expected_box(tr, t, MAX_PREDICTED_SHIFT)) for tr in searched]
        misses = {tr.id: (tr.last_t, self._misses(tr)) for tr in tracks}
        misses.update((tr.id, (tr.last_t, self._misses(tr) + 1)) for tr in searched)
        self._searched = misses
        # A face not judged yet and lost twice may be walking on unseen: its body
        # explains nothing, so the motion it leaves is searched. A judged face
        # (known, or a stranger already recorded) explains its body until it expires.
        bodies = [
            (body_area(tr.box), tr)
            for tr, gone in zip(tracks, lost, strict=True)
            if not (scene_changed or (gone and not tr.settled))
        ]
        new_face = any(tr.id not in self._seen_ids for tr in tracks)
        self._seen_ids = {tr.id for tr in tracks}
        unexplained: list[Box] = []
        moving: list[Box] = []
        near_people: list[SearchRegion] = []
        slow_taken = False
        for region in motion:
            by = [tr for b, tr in bodies if _inside_share(region.box, b) >= _EXPLAINED_SHARE]
            if not (region.routine or by):
                unexplained.append(region.box)
            elif slow_due and by:
                # Someone else moving within a tracked person's reach is about as far
                # from the camera: their face is searched down to half that face's size.
                smallest = min(tr.box[2] - tr.box[0] for tr in by) // 2
                near_people.append((region.box, max(self.min_face_px, smallest)))
                slow_taken = True
            elif slow_due:
                moving.append(region.box)
                slow_taken = True
        moving += self._new_motion(t, unexplained, new_face or scene_changed)
        if slow_taken:
            self._next_slow = t + self.slow_interval_s
        if settled_due and any(slow_tracks):
            self._next_settled = t + self.settled_interval_s
        return search_regions(moving, faces, width, height, self.min_face_px, near_people)
