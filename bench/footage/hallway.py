"""The empty hallway every scene of the composed footage is drawn on, and the tree outside."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from bench.footage.scenes import RGB, FloatImage, H, W


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> FloatImage:
    small = rng.standard_normal((shape[0] // cell + 2, shape[1] // cell + 2)).astype(np.float32)
    return np.asarray(
        cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC), np.float32
    )


WINDOW = (80, 110, 400, 400)  # x0, y0, x1, y1 of the window's outer frame
FLOOR_Y = 560


@dataclass
class _Leaf:
    group: int
    x: float
    y: float
    ax: int
    ay: int
    angle: float
    colour: tuple[int, int, int]
    flutter_hz: float
    flutter_phase: float


class WindowView:
    """The tree seen through the window; it sways when there is wind."""

    def __init__(self, rng: np.random.Generator) -> None:
        x0, y0, x1, y1 = WINDOW
        self.rect = (x0, y0, x1, y1)
        h, w = y1 - y0, x1 - x0
        t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        top = np.array([150, 188, 232], np.float32)
        low = np.array([214, 226, 236], np.float32)
        sky = top * (1 - t) + low * t + np.zeros((h, w, 3), np.float32)
        sky += 2.0 * _smooth_noise(rng, (h, w), 24)[..., None]
        self.sky = np.clip(sky, 0, 255).astype(np.uint8)
        self.trunk = (w - 40, h + 10)
        self.groups = [(70.0, 70.0), (200.0, 60.0), (120.0, 170.0), (250.0, 190.0)]
        self.sway = [
            (float(rng.uniform(6, 12)), float(rng.uniform(0.22, 0.55)), float(rng.uniform(0, 6.3)))
            for _ in self.groups
        ]
        self.leaves: list[_Leaf] = []
        for _ in range(90):
            g = int(rng.integers(len(self.groups)))
            cx, cy = self.groups[g]
            red, grn, blu = (int(rng.integers(a, b)) for a, b in ((40, 95), (95, 150), (30, 70)))
            self.leaves.append(
                _Leaf(
                    group=g,
                    x=cx + float(rng.normal(0, 34)),
                    y=cy + float(rng.normal(0, 26)),
                    ax=int(rng.integers(8, 16)),
                    ay=int(rng.integers(4, 9)),
                    angle=float(rng.uniform(0, 180)),
                    colour=(red, grn, blu),
                    flutter_hz=float(rng.uniform(0.8, 2.0)),
                    flutter_phase=float(rng.uniform(0, 6.3)),
                )
            )
        # Glass: the window minus its frame and its cross bars.
        glass = np.zeros((h, w), bool)
        glass[14 : h - 14, 14 : w - 14] = True
        glass[:, w // 2 - 5 : w // 2 + 5] = False
        glass[h // 2 - 5 : h // 2 + 5, :] = False
        self.glass = glass

    def render(self, t: float, wind: float) -> RGB:
        canvas = self.sky.copy()
        offsets = []
        for amp, hz, phase in self.sway:
            offsets.append(wind * amp * math.sin(2 * math.pi * hz * t + phase))
        for (gx, gy), dx in zip(self.groups, offsets, strict=True):
            end = (round(gx + dx), round(gy + 0.3 * dx))
            cv2.line(canvas, self.trunk, end, (86, 64, 46), 6, cv2.LINE_AA)
        for leaf in self.leaves:
            dx = offsets[leaf.group]
            dx += wind * 2.0 * math.sin(2 * math.pi * leaf.flutter_hz * t + leaf.flutter_phase)
            centre = (round(leaf.x + dx), round(leaf.y + 0.3 * dx))
            cv2.ellipse(
                canvas, centre, (leaf.ax, leaf.ay), leaf.angle, 0, 360, leaf.colour, -1, cv2.LINE_AA
            )
        return cv2.GaussianBlur(canvas, (5, 5), 1.2)  # outside is out of focus


def hallway(rng: np.random.Generator) -> tuple[FloatImage, WindowView]:
    """A plain hallway: lit wall, window, door, a picture, a wooden floor."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    lamp = np.exp(-(((xx - 640) / 720) ** 2 + ((yy + 160) / 620) ** 2))
    img = np.array([200, 186, 162], np.float32) * (0.76 + 0.32 * lamp)[..., None]
    img += 3.0 * _smooth_noise(rng, (H, W), 16)[..., None]

    # Wooden floor: planks converging to a vanishing point, darker far away.
    vx, vy = 640.0, 250.0
    fy, fx = yy[FLOOR_Y:], xx[FLOOR_Y:]
    u = (fx - vx) / (fy - vy)
    plank = np.floor(u / 0.55).astype(np.int32)
    tones = rng.uniform(0.85, 1.12, size=256).astype(np.float32)
    tone = tones[plank % 256]
    edge = np.abs(u / 0.55 - np.round(u / 0.55)) < 0.02
    wood = np.array([128, 88, 56], np.float32)
    depth = 0.75 + 0.35 * (fy - FLOOR_Y) / (H - FLOOR_Y)
    streak = 1 + 0.05 * cv2.resize(
        rng.standard_normal((H - FLOOR_Y, 40)).astype(np.float32), (W, H - FLOOR_Y)
    )
    floor = wood * (tone * depth * streak)[..., None]
    floor[edge] *= 0.7
    img[FLOOR_Y:] = floor

    # Skirting board.
    img[FLOOR_Y - 20 : FLOOR_Y] = np.array([232, 228, 218], np.float32)
    img[FLOOR_Y - 22 : FLOOR_Y - 20] *= 0.8

    # Door on the right: frame, leaf with grain and panels, handle.
    dx0, dy0, dx1, dy1 = 980, 170, 1130, FLOOR_Y - 20
    img[dy0:dy1, dx0:dx1] = np.array([178, 150, 118], np.float32)
    leaf_h, leaf_w = dy1 - dy0 - 12, dx1 - dx0 - 24
    grain = 1 + 0.06 * cv2.resize(
        rng.standard_normal((8, leaf_w)).astype(np.float32), (leaf_w, leaf_h)
    )
    img[dy0 + 12 : dy1, dx0 + 12 : dx1 - 12] = (
        np.array([118, 80, 50], np.float32) * grain[..., None]
    )
    for py0, py1 in ((dy0 + 40, dy0 + 170), (dy0 + 210, dy1 - 30)):
        cv2.rectangle(img, (dx0 + 32, py0), (dx1 - 32, py1), (96, 64, 40), 3, cv2.LINE_AA)
    cv2.circle(img, (dx1 - 28, 380), 7, (205, 172, 92), -1, cv2.LINE_AA)

    # A framed picture (a landscape: no faces).
    px0, py0, px1, py1 = 780, 200, 900, 286
    img[py0:py1, px0:px1] = np.array([58, 48, 40], np.float32)
    img[py0 + 8 : py1 - 8, px0 + 8 : px1 - 8] = np.array([168, 196, 222], np.float32)
    hill = np.array(
        [
            [px0 + 8, py1 - 8],
            [px0 + 40, py0 + 44],
            [px0 + 70, py0 + 58],
            [px1 - 8, py0 + 36],
            [px1 - 8, py1 - 8],
        ],
        np.int32,
    )
    cv2.fillPoly(img, [hill], (84, 120, 72), cv2.LINE_AA)

    # The window: frame, sill, and the view.
    x0, y0, x1, y1 = WINDOW
    img[y0:y1, x0:x1] = np.array([238, 236, 230], np.float32)
    img[y1 : y1 + 14, x0 - 12 : x1 + 12] = np.array([226, 222, 214], np.float32)
    img[y1 + 14 : y1 + 18, x0 - 12 : x1 + 12] *= 0.75
    view = WindowView(rng)
    roi = img[y0:y1, x0:x1]
    roi[view.glass] = view.render(0.0, 0.0)[view.glass]
    return np.ascontiguousarray(img), view
