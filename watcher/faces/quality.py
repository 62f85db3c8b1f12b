"""How good a look at a face is: size, sharpness, pose from the 5 landmarks, a cut by the edge.

Only a good look may decide whether a face is known: dlib's embedding of a small,
blurred, turned or cut face drifts toward everyone (measured on real household
footage: such looks put known people 0.45-0.55 from their own photo, where
relatives are). A poor look is kept as a sighting but is neither known nor unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from watcher.core import Box, GreyImage, Landmarks

# Below this height the 150 px chip dlib embeds is mostly interpolation: own-photo
# distances of 58-100 px faces are a median 0.45, of 170-300 px faces 0.32.
GOOD_FACE_PX = 80
# Sharpness: the weaker of the horizontal and vertical gradient energies of the
# inner face (scaled to 64x64), over its contrast, so that it does not depend on
# the face's size, skin or lighting. Measured on bench/recognition's looks of 49
# real photos: sharp looks of 64-220 px 2.6-5.9 (5th-95th percentile), the same
# looks with a motion streak of 7-20 px 1.1-2.6, whose embeddings move from 0.35
# to 0.52 (median) from the person's other photos.
_SHARP_SIDE = 64
_SHARP_MARGIN = 8  # px of the 64 left out on each side: background, hair
MIN_SHARPNESS = 2.6
# Contrast: the standard deviation of the inner face's grey levels. Press photos
# (people/) measure 26-60, faces in the media's real video clips 20-25; the
# bench's dark, noisy, strongly compressed frames 10-20, which embed 0.44
# (median) from the person's photos, not 0.35: only the darkest are ruled out.
MIN_CONTRAST = 12.0
# Yaw: the nose's offset from the eyes' midpoint along the eye line, in eye
# distances. Frontal photos measure |yaw| <= 0.15; a 3/4 view is about 0.4.
MAX_YAW = 0.3
# Pitch: how far the nose sits below the eye line, in eye distances. Frontal
# photos measure 0.64-0.90; a head bent over a phone brings the nose up to the
# eye line (under 0.45) and a chin raised pushes it past 1.1.
PITCH_RANGE = (0.45, 1.1)
# A box clamped by the frame on a side and this much narrower (or shorter) than
# it is tall (wide): dlib's boxes are square, so part of the face is missing.
_CUT_SHARE = 0.08


@dataclass(frozen=True)
class Look:
    """What one embedding's pixels were like."""

    face_px: int
    sharpness: float
    yaw: float
    pitch: float
    cut: bool
    contrast: float = 255.0

    @property
    def flaw(self) -> str | None:
        """Why this look cannot decide (None: a good look)."""
        if self.cut:
            return "cut by the frame's edge"
        if abs(self.yaw) > MAX_YAW:
            return "turned away"
        if not PITCH_RANGE[0] <= self.pitch <= PITCH_RANGE[1]:
            return "head bent or raised"
        if self.face_px < GOOD_FACE_PX:
            return f"small ({self.face_px} px)"
        if self.sharpness < MIN_SHARPNESS:
            return "blurred"
        if self.contrast < MIN_CONTRAST:
            return "dark or low contrast"
        return None

    @property
    def frontal(self) -> bool:
        """Whether the face looks at the camera (yaw and pitch within their bounds)."""
        return abs(self.yaw) <= MAX_YAW and PITCH_RANGE[0] <= self.pitch <= PITCH_RANGE[1]

    @property
    def good(self) -> bool:
        """Whether this look may decide known or unknown."""
        return self.flaw is None


def is_cut(box: Box, width: int, height: int) -> bool:
    """Whether the frame's edge cuts the face (a whole face merely near the edge is not)."""
    top, right, bottom, left = box
    if not (top <= 0 or left <= 0 or right >= width or bottom >= height):
        return False
    h, w = bottom - top, right - left
    return abs(h - w) > _CUT_SHARE * max(h, w)


def sharpness_contrast(grey: GreyImage, box: Box) -> tuple[float, float]:
    """(sharpness, contrast) of the inner face: its gradient energy over its variance
    in the blurrier direction, and the standard deviation of its grey levels."""
    top, right, bottom, left = Box(*box).clamped(grey.shape[1], grey.shape[0])
    face = grey[top:bottom, left:right]
    if face.size == 0:
        return 0.0, 0.0
    side = cv2.resize(face, (_SHARP_SIDE, _SHARP_SIDE), interpolation=cv2.INTER_AREA)
    inner = side[_SHARP_MARGIN:-_SHARP_MARGIN, _SHARP_MARGIN:-_SHARP_MARGIN].astype(np.float64)
    across = float(np.mean(cv2.Sobel(inner, cv2.CV_64F, 1, 0) ** 2))
    down = float(np.mean(cv2.Sobel(inner, cv2.CV_64F, 0, 1) ** 2))
    variance = float(inner.var())
    return min(across, down) / (variance + 1.0), variance**0.5


def pose(points: Landmarks) -> tuple[float, float]:
    """(yaw, pitch) from dlib's 5 points: eye corners 0-1 and 2-3, the nose's base 4."""
    eye_a, eye_b = points[0:2].mean(axis=0), points[2:4].mean(axis=0)
    span = float(np.linalg.norm(eye_b - eye_a))
    if span < 1e-6:
        return 0.0, 0.0
    axis = (eye_b - eye_a) / span
    normal = np.array([-axis[1], axis[0]])
    nose = points[4] - (eye_a + eye_b) / 2
    return float(nose @ axis) / span, abs(float(nose @ normal)) / span


def measure(grey: GreyImage, box: Box, points: Landmarks) -> Look:
    """The look at the face at `box` of a frame (grey), with its 5 landmarks."""
    yaw, pitch = pose(points)
    sharp, contrast = sharpness_contrast(grey, box)
    return Look(
        face_px=Box(*box).height,
        sharpness=sharp,
        yaw=yaw,
        pitch=pitch,
        cut=is_cut(box, grey.shape[1], grey.shape[0]),
        contrast=contrast,
    )
