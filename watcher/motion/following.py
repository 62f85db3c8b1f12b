"""Following a face between analysed frames: where it should be next, from how it moved.

The planner (which regions to search) and the tracker (which box continues which
face) share this geometry; it needs only what any followed face has.
"""

from __future__ import annotations

from typing import Protocol

from watcher.core import Box

# A followed face is expected to move on as it moved, by at most this many face sizes.
MAX_PREDICTED_SHIFT = 1.5


class Followed(Protocol):
    """A face followed across analysed frames (decide.tracker.Track is one)."""

    id: int
    box: Box
    last_t: float
    velocity: tuple[float, float]  # of the box's centre (down, right), px/s
    hits: int  # analyses in which the face was found

    @property
    def settled(self) -> bool:
        """Decided: searched at a slower pace."""
        ...


def velocity(before: Box, after: Box, dt: float) -> tuple[float, float]:
    """How fast a face's centre moved (down, right) in px/s; still when dt is zero."""
    if dt <= 0:
        return (0.0, 0.0)
    (y0, x0), (y1, x1) = Box(*before).centre, Box(*after).centre
    return ((y1 - y0) / dt, (x1 - x0) / dt)


def face_size(box: Box) -> int:
    """A face box's size: its longer side. The detector's boxes are square; one the
    frame's edge cut (a face coming in from the side) keeps its height, not its width."""
    return max(box[2] - box[0], box[1] - box[3])


def expected_box(face: Followed, t: float, max_shift: float) -> Box:
    """Where the face should be at `t`, moving on as it did (capped at `max_shift`
    face sizes). A face seen once has no known motion: it may be anywhere within
    `max_shift` sizes, and the box returned spans all that."""
    top, right, bottom, left = face.box
    if face.hits < 2:
        reach = round(max_shift * face_size(face.box))
        return Box(*face.box).grown(reach)
    dt = max(0.0, t - face.last_t)
    limit = max_shift * face_size(face.box)
    dy = max(-limit, min(limit, face.velocity[0] * dt))
    dx = max(-limit, min(limit, face.velocity[1] * dt))
    return Box(round(top + dy), round(right + dx), round(bottom + dy), round(left + dx))


def centre_shift(a: Box, b: Box) -> float:
    """Distance between two boxes' centres, in face sizes of the first box."""
    ay, ax = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    by, bx = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return float(((ay - by) ** 2 + (ax - bx) ** 2) ** 0.5) / max(1, face_size(a))
