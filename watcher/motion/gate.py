"""A cheap motion gate on a small grey frame: where did the picture change?

Most of a camera's day is an empty scene. Comparing a ~120-pixel-high grey
frame against a slowly adapting background costs about a millisecond, and
tells the face detector which regions are worth its time. Global light drift
is removed (the mean difference is subtracted) and sensor noise averages away
at this scale. Places that move most of the time (a tree in the wind, a TV)
are marked habitual, so the planner can search them less often. Habits are
learnt only from motion that is neither a person (a tracked face's body) nor a
change of the whole scene (lights, a camera moved): those say nothing about
where the scene itself keeps moving, and learning them would slow the search
exactly where people come.

Someone who stands still for a few seconds becomes part of the background; when
they leave, the wall behind them differs from it until it catches up (~2.5 s)
and would be searched as new motion - the most expensive search there is, and
the one a departure paid most for. The gate also keeps the scene's long look,
learnt only where nothing moves and no one is followed (a person standing still is
not the scene, however long they stand), and marks motion that shows that look again
and does not move as left behind: no one new is there, what changed is the
background (searched like habitual motion, in the planner's slow lane).

The long look also tells when the scene is at rest: the picture shows it again
everywhere but in habitual places, and it has learnt every other place since the
gate started (it starts as the first picture, with whoever is in it). No one is
there then who was not there long before (someone standing still differs from it,
however still), and nothing needs every frame decoded: the camera goes back to
keyframes at once instead of after the hold that bridges a pause of someone who is
there (pipeline/camera.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from watcher.core import Box

GreyImage = npt.NDArray[np.uint8]

_BLUR = (5, 5)
_BACKGROUND_ALPHA = 0.1  # how fast the background follows a changed scene
_HABIT_ALPHA = 0.04  # how fast a cell's habit of moving is learnt (~25 analyses)
# The two rates above are per analysis at this spacing (5 analysed frames a second).
# Analyses further apart (only keyframes decoded: one every GOP) weigh as the
# analyses they stand for: the background and the habits follow the scene in time,
# not in frames, so a tree is as habitual, and a drifting light as absorbed, either way.
_ANALYSIS_STEP_S = 0.2
_MAX_ALPHA = 0.9  # a long gap never replaces the background or the habits outright
_HABITUAL_CELL = 0.2  # a cell moving at least this share of the time is habitual
_HABITUAL_REGION = 0.6  # a region mostly made of habitual cells is habitual
# The picture is another one (a cut, the camera turned) when it correlates this
# little with the previous analysed frame (measured: hard cuts 0.02-0.18, a
# handheld pan 0.34 and up, a person walking up to the camera 0.62 and up).
_SCENE_CORRELATION = 0.25
# While this share of the frame differs from the background (for a second or two
# after a cut or the lights changing, as the background catches up), no habit is learnt.
_MOSTLY_MOVING = 0.6
# The scene's long look follows the picture this fast, per analysis (~20 s at five
# analyses a second), and only where the gate sees no motion and no followed face's
# body is: a person standing a few seconds enters the background (they stop being
# motion after ~2 s) but not this look, so the wall behind them matches it when they
# leave (learnt where only motion was excluded, a visitor standing ~5 s left enough
# of themselves in it to keep their place from matching for a second or two: on the
# bench's visitors, four searches at the smallest face size each departure). Someone
# whose face was never found, staying for minutes, enters it: after they leave, their
# place is searched as new motion, as without this look.
_LONG_ALPHA = 0.01
# Motion is left behind when at most this share of its moving pixels differs from
# the scene's long look, and at most this share from the previous analysed frame (and
# those pixels are fewer than a region of their own would need: someone new beside
# the place merges into its region): it shows what was there long before, and nothing
# in it is moving. A face still in it is one the long look held (who stood there for
# minutes and is back, still, where they were); it is found by its track, or by the
# slow lane. Measured on the bench's scenes and the test
# clips (visitors, empty, both Hamilton scenes, single_face and its 25 plays, the three
# face/no-face clips): 909 of 5,636 motion regions left behind, 4 of them holding a
# face, all in single_face_x25 (one man in every frame, whose clip played again brings
# his face back, still, where it was), and each found all the same.
_LEFT_BEHIND_SHARE = 0.2


@dataclass(frozen=True)
class MotionRegion:
    """A moving part of the frame, in full-frame pixels."""

    box: Box
    habitual: bool  # this place moves most of the time (leaves, water, a screen)
    # the scene's long look coming back (someone who stood there left): nothing new
    left_behind: bool = False

    @property
    def routine(self) -> bool:
        """Motion that brings no one new: searched only in the planner's slow lane."""
        return self.habitual or self.left_behind


class MotionGate:
    """Regions of a grey frame that moved, in the frame's own pixels."""

    def __init__(self, height: int, threshold: int, min_area: float) -> None:
        self.height = height
        self.threshold = threshold
        self.min_area = min_area
        self._background: npt.NDArray[np.float32] | None = None
        self._habit: npt.NDArray[np.float32] | None = None
        self._previous: npt.NDArray[np.float32] | None = None
        self._long: npt.NDArray[np.float32] | None = None  # the scene's long look
        # Cells the long look has learnt since the reset (still, no one followed there):
        # it starts as the first picture, with whoever was in it.
        self._learnt: npt.NDArray[np.bool_] | None = None
        self._kernel = np.ones((3, 3), np.uint8)
        # Whether the latest frame shows another picture (a cut, the camera turned).
        self.scene_changed = False
        # Whether the latest frame was the first one (after a reset): nothing to compare.
        self.first_frame = False
        # Whether the latest frame shows the scene's long look but in habitual places.
        self.at_rest = False
        self._steps = 1.0  # analyses the latest frame stands for (see _ANALYSIS_STEP_S)

    def _small(self, grey: GreyImage) -> npt.NDArray[np.float32]:
        full_h, full_w = grey.shape[:2]
        # Striding first makes the area resize cheap; the blur smooths what it aliases.
        step = max(1, full_h // (self.height * 2))
        strided = grey[::step, ::step]
        width = max(1, round(full_w * self.height / full_h))
        small = cv2.resize(strided, (width, self.height), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, _BLUR, 0).astype(np.float32)

    def regions(
        self, grey: GreyImage, people: list[Box] | None = None, span_s: float | None = None
    ) -> list[MotionRegion]:
        """Moving regions of a full-resolution grey frame.

        `people` are where tracked persons' bodies are: their motion teaches no habit.
        The first frame (and a frame of another size) is all motion: the scene is new.
        """
        full_h, full_w = grey.shape[:2]
        current = self._small(grey)
        previous, self._previous = self._previous, current
        background = self._background
        self.first_frame = background is None
        self.at_rest = False
        if background is None or background.shape != current.shape:
            self._background = current.copy()  # adapts in place; `current` is kept as is
            self._habit = np.zeros_like(current)
            self._long = current.copy()
            self._learnt = np.zeros(current.shape, np.bool_)
            self.scene_changed = True
            return [MotionRegion(Box(0, full_w, full_h, 0), habitual=False)]
        mask: npt.NDArray[Any] = _differs(current, background, self.threshold).astype(np.uint8)
        steps = 1.0 if span_s is None else max(1.0, span_s / _ANALYSIS_STEP_S)
        self._steps = steps
        cv2.accumulateWeighted(current, background, _weighted(_BACKGROUND_ALPHA, steps))
        self.scene_changed = (
            previous is not None and _correlation(previous, current) < _SCENE_CORRELATION
        )
        scale = self.height / full_h
        bodies = _bodies(mask, people or [], scale)
        # After a cut the long look is of another picture: nothing is left behind, nor
        # is the scene at rest, and the comparisons are not made.
        new_look = None if self.scene_changed else _differs(current, self._long, self.threshold)
        if not mask.any():
            habit = self._learn(mask)
            if new_look is not None:
                self.at_rest = self._rests(new_look, habit)
            self._learn_long(current, bodies)
            return []
        raw = mask
        mask = cv2.dilate(mask, self._kernel, iterations=2)
        moved = None if new_look is None else _differs(current, previous, self.threshold)
        self._learn_long(current, np.maximum(mask, bodies))
        # Learnt on the dilated mask: leaves wander between cells.
        habit = self._learn(self._teaching(mask, bodies))
        if new_look is not None:
            self.at_rest = self._rests(new_look, habit)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px = self.min_area * mask.size
        out: list[MotionRegion] = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < min_px:
                continue
            moving = raw[y : y + h, x : x + w] > 0
            habitual = float((habit[y : y + h, x : x + w][moving] > _HABITUAL_CELL).mean())
            box = Box(
                int(y / scale),
                min(full_w, int((x + w) / scale) + 1),
                min(full_h, int((y + h) / scale) + 1),
                int(x / scale),
            )
            left = (
                new_look is not None
                and moved is not None
                and self._left_behind(
                    moving, new_look[y : y + h, x : x + w], moved[y : y + h, x : x + w], min_px
                )
            )
            out.append(MotionRegion(box, habitual >= _HABITUAL_REGION, left))
        return out

    def _rests(self, new_look: npt.NDArray[np.bool_], habit: npt.NDArray[np.float32]) -> bool:
        """Whether what differs from the long look, habitual places aside, is less than
        a moving region needs to count. Counted over the whole frame, not per region:
        scattered differences add up, and then the scene is not taken as at rest. Nor
        is it while the long look has not yet learnt every place but habitual ones since
        the reset: someone in the first picture (at a reconnection) is in it until then."""
        assert self._learnt is not None
        steady = habit <= _HABITUAL_CELL
        if not bool((self._learnt | ~steady).all()):
            return False
        fresh = new_look & steady
        return int(fresh.sum()) < self.min_area * new_look.size

    @staticmethod
    def _left_behind(
        moving: npt.NDArray[Any],
        new_look: npt.NDArray[Any],
        moved: npt.NDArray[Any],
        min_px: float,
    ) -> bool:
        """Whether a region's motion is the scene's long look coming back (see above)."""
        if any(float(changed[moving].mean()) > _LEFT_BEHIND_SHARE for changed in (new_look, moved)):
            return False
        # Counted in pixels too, not only as a share: someone new beside the place a
        # person left merges into that region, and is a small share of it. What is new
        # or moving in it must be less than a region of its own would need to be searched.
        fresh = moving & (new_look | moved)
        return int(fresh.sum()) < min_px

    def _teaching(self, mask: npt.NDArray[Any], bodies: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
        """The part of the motion habits are learnt from (see the module's docstring):
        not where followed people's `bodies` are."""
        if self.scene_changed or float(mask.mean()) >= _MOSTLY_MOVING:
            return np.zeros_like(mask)
        return mask * (1 - bodies)

    def _learn(self, mask: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        """Update each cell's habit of moving; return the habits."""
        habit = self._habit
        assert habit is not None
        alpha = _weighted(_HABIT_ALPHA, self._steps)
        cv2.accumulateWeighted(mask.astype(np.float32), habit, alpha)
        return habit

    def _learn_long(self, current: npt.NDArray[np.float32], skip: npt.NDArray[Any]) -> None:
        """Update the scene's long look where nothing moves and no one is followed
        (`skip`: the dilated motion mask and the followed people's bodies)."""
        assert self._long is not None and self._learnt is not None
        self._learnt |= skip == 0
        alpha = _weighted(_LONG_ALPHA, self._steps)
        if not skip.any():
            cv2.accumulateWeighted(current, self._long, alpha)
        else:
            cv2.accumulateWeighted(current, self._long, alpha, mask=1 - skip)

    def reset(self) -> None:
        """Forget the background (a new connection may show another picture)."""
        self._background = None
        self._habit = None
        self._previous = None
        self._long = None
        self._learnt = None
        self.scene_changed = False
        self.first_frame = False
        self.at_rest = False


def _bodies(like: npt.NDArray[Any], people: list[Box], scale: float) -> npt.NDArray[np.uint8]:
    """A mask (the shape of `like`) of where the followed people's bodies are."""
    mask = np.zeros(like.shape, np.uint8)
    for top, right, bottom, left in people:
        y0, y1 = max(0, int(top * scale)), max(0, int(bottom * scale) + 1)
        x0, x1 = max(0, int(left * scale)), max(0, int(right * scale) + 1)
        mask[y0:y1, x0:x1] = 1
    return mask


def _weighted(alpha: float, steps: float) -> float:
    """The rate that, applied once, does what `alpha` applied `steps` times does."""
    return min(_MAX_ALPHA, 1.0 - (1.0 - alpha) ** steps)


def _differs(
    current: npt.NDArray[np.float32], other: npt.NDArray[np.float32] | None, threshold: int
) -> npt.NDArray[np.bool_]:
    """Where `current` differs from `other` by more than `threshold`, light drift removed
    (light drift moves everything at once: not motion), all of it when there is no
    `other` of its size (nothing to compare)."""
    if other is None or other.shape != current.shape:
        return np.ones(current.shape, dtype=np.bool_)
    diff = current - other
    diff -= float(diff.mean())
    return np.abs(diff) > threshold


def _correlation(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """Pearson correlation of two small frames (1.0 for a flat picture: nothing to compare)."""
    da, db = a - float(a.mean()), b - float(b.mean())
    norm = float(np.sqrt(float((da * da).sum()) * float((db * db).sum())))
    return float((da * db).sum()) / norm if norm > 0 else 1.0
