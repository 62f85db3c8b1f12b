"""A two-person gallery in embedding space, and looks at known distances from it.

For the decider's units: the open-set rule is the real one, over synthetic
embeddings whose distances are exact (alice at the origin, bob 0.7 away: alice's
bound is (0.40 + 0.70) / 2 = 0.55).
"""

from __future__ import annotations

import numpy as np

from watcher.constants import EMBEDDING_SIZE
from watcher.core import Box
from watcher.decide.evidence import Observation
from watcher.faces.openset import OpenSetRule
from watcher.faces.quality import Look

_ALICE = np.zeros(EMBEDDING_SIZE)
_BOB = np.zeros(EMBEDDING_SIZE)
_BOB[0] = 0.7
GOOD = Look(face_px=150, sharpness=4.0, yaw=0.0, pitch=0.8, cut=False, contrast=40.0)
SMALL = Look(face_px=64, sharpness=4.0, yaw=0.0, pitch=0.8, cut=False, contrast=40.0)
TURNED = Look(face_px=150, sharpness=4.0, yaw=0.5, pitch=0.8, cut=False, contrast=40.0)


def rule(tolerance: float = 0.6) -> OpenSetRule:
    """The open-set rule of the gallery {alice: one photo, bob: one photo}."""
    return OpenSetRule(["alice", "bob"], np.vstack([_ALICE, _BOB]), tolerance)


def at(distance: float, look: Look = GOOD, axis: int = 1) -> Observation:
    """A look `distance` from alice's photo (and at least 0.7 from bob's)."""
    vector = np.zeros(EMBEDDING_SIZE)
    vector[axis] = distance
    return Observation(vector, look)


def alice(look: Look = GOOD) -> Observation:
    """A clear look at alice (0.3 from her photo)."""
    return at(0.3, look)


def stranger(look: Look = GOOD) -> Observation:
    """A look at somebody else (0.8 from alice, 1.06 from bob)."""
    return at(0.8, look)


def frontal_landmarks(box: tuple[int, int, int, int]) -> np.ndarray:
    """dlib's 5 points of a face looking straight at the camera, inside `box`."""
    top, right, bottom, left = Box(*box)
    w, h = right - left, bottom - top
    eye_y, nose_y = top + 0.4 * h, top + 0.4 * h + 0.8 * 0.4 * w
    xs = (0.8, 0.6, 0.2, 0.4)  # outer and inner corner of each eye, as fractions of w
    eyes = [(left + x * w, eye_y) for x in xs]
    return np.asarray([*eyes, (left + 0.5 * w, nose_y)])
