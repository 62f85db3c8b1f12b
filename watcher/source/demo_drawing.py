"""Drawing the demo scene: the hallway, and people as head-and-shoulders cut-outs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

FACE_FRACTION: Final = 0.30  # face height / frame height; dlib boxes it 150 px at 540 rows


@dataclass(frozen=True)
class PhotoCrop:
    """Where the head and shoulders are in a source photo, in its own pixels."""

    x0: int
    y0: int
    x1: int
    y1: int
    face_px: int  # face height in the photo, calibrated against dlib's box (see below)
    center_x: float  # where the person stands, as a fraction of the frame width
    from_left: bool  # enters from the left edge (and leaves by the right one)


# dlib's frontal detector (upsample 0) boxes the faces at 215 px in grace_hopper.jpg
# (512x600) and 87 px in astronaut.png (512x512); its box sizes come in steps of its
# image pyramid, so face_px is tuned until both boxes in a 540-row scene are 150 px.
RESIDENT_CROP: Final = PhotoCrop(30, 10, 490, 600, 200, 0.36, True)
VISITOR_CROP: Final = PhotoCrop(85, 0, 365, 275, 97, 0.62, False)


@dataclass(frozen=True)
class Sprite:
    """A person's head-and-shoulders cut-out, ready to paste."""

    pixels: Image  # (h, w, 3)
    mask: npt.NDArray[np.bool_]  # (h, w, 1): True where the person is drawn
    center_x: float
    from_left: bool


def _bust_mask(height: int, width: int) -> npt.NDArray[np.bool_]:
    """A tombstone-shaped mask: a rectangle whose top corners are rounded like a bust."""
    rx = width / 2.0
    ry = 0.3 * height
    ys = np.arange(height, dtype=np.float64)[:, None]
    xs = np.arange(width, dtype=np.float64)[None, :] + 0.5
    dy = np.clip((ry - ys) / ry, 0.0, 1.0)
    half = rx * np.sqrt(1.0 - dy * dy)
    return (np.abs(xs - rx) <= half)[:, :, None]


def make_sprite(photo: Image, crop: PhotoCrop, frame_height: int) -> Sprite:
    """Crop a photo to head and shoulders and scale it so the face has the wanted height."""
    scale = FACE_FRACTION * frame_height / crop.face_px
    cut = photo[crop.y0 : crop.y1, crop.x0 : crop.x1]
    size = (max(1, round(cut.shape[1] * scale)), max(1, round(cut.shape[0] * scale)))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    pixels = np.ascontiguousarray(cv2.resize(cut, size, interpolation=interp), dtype=np.uint8)
    return Sprite(pixels, _bust_mask(size[1], size[0]), crop.center_x, crop.from_left)


def hallway(width: int, height: int) -> Image:
    """A still hallway in one-point perspective: walls, floor, ceiling, a door, a lamp."""
    w, h = width, height
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (196, 186, 166)  # wall beige

    def pt(fx: float, fy: float) -> tuple[int, int]:
        return (round(fx * w), round(fy * h))

    def quad(color: tuple[int, int, int], *corners: tuple[float, float]) -> None:
        poly = np.array([pt(fx, fy) for fx, fy in corners], np.int32)
        cv2.fillPoly(img, [poly], color, lineType=cv2.LINE_AA)

    # The far wall and the receding surfaces around it.
    bx0, by0, bx1, by1 = 0.40, 0.30, 0.60, 0.62
    quad((226, 222, 210), (0, 0), (1, 0), (bx1, by0), (bx0, by0))  # ceiling
    quad((120, 92, 66), (0, 1), (1, 1), (bx1, by1), (bx0, by1))  # wooden floor
    quad((184, 172, 150), (0, 0), (bx0, by0), (bx0, by1), (0, 1))  # left wall
    quad((176, 165, 144), (1, 0), (bx1, by0), (bx1, by1), (1, 1))  # right wall
    quad((208, 200, 182), (bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1))  # far wall
    # A door on the right wall, a framed picture on the left, a window at the end.
    quad((104, 74, 52), (0.80, 0.19), (0.70, 0.26), (0.70, 0.66), (0.80, 0.75))
    quad((92, 112, 128), (0.10, 0.22), (0.22, 0.27), (0.22, 0.42), (0.10, 0.44))
    quad((160, 196, 220), (0.45, 0.36), (0.55, 0.36), (0.55, 0.50), (0.45, 0.50))
    # Skirting boards along the floor edges.
    quad((232, 228, 220), (0, 0.97), (bx0, by1 - 0.01), (bx0, by1), (0, 1))
    quad((232, 228, 220), (1, 0.97), (bx1, by1 - 0.01), (bx1, by1), (1, 1))
    # A ceiling lamp: a soft bright ellipse.
    axes = (round(0.06 * w), round(0.02 * h))
    cv2.ellipse(img, pt(0.5, 0.12), axes, 0, 0, 360, (255, 250, 232), -1, cv2.LINE_AA)

    # Light falls off away from the lamp; floor boards give the floor some texture.
    ys = np.linspace(-1.0, 1.0, h)[:, None]
    xs = np.linspace(-1.0, 1.0, w)[None, :]
    shade = 1.05 - 0.22 * (xs**2 + 0.6 * (ys + 0.7) ** 2)
    lit = img.astype(np.float32) * shade[:, :, None].astype(np.float32)
    img = np.clip(lit, 0, 255).astype(np.uint8)
    for k in range(1, 8):
        x_far = round((bx0 + (bx1 - bx0) * k / 8) * w)
        x_near = round(w * k / 8)
        cv2.line(img, (x_far, round(by1 * h)), (x_near, h), (100, 76, 54), 1, cv2.LINE_AA)
    return np.ascontiguousarray(cv2.GaussianBlur(img, (3, 3), 0))


def smoothstep(u: float) -> float:
    """Ease in and out: 0 at u<=0, 1 at u>=1, no jerk at either end."""
    u = min(1.0, max(0.0, u))
    return u * u * (3.0 - 2.0 * u)


def lerp(a: float, b: float, u: float) -> float:
    """Linear interpolation from a to b."""
    return a + (b - a) * u
