"""The built-in demo camera's pictures: real face photos passing through a generated hallway.

A known resident (Grace Hopper, shipped with matplotlib) walks by and must not be
recorded; an unknown visitor (astronaut Eileen Collins, shipped with scikit-image)
must be. dlib puts the two faces about 0.70 apart, far beyond any sane threshold,
so the demo shows both outcomes without a camera or a download.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from watcher.source.demo_drawing import (
    RESIDENT_CROP,
    VISITOR_CROP,
    Image,
    Sprite,
    hallway,
    lerp,
    make_sprite,
    smoothstep,
)
from watcher.source.demo_photos import (
    RESIDENT_NAME,
    VISITOR_NAME,
    DemoUnavailable,
    install_resident,
    load_rgb,
    resident_photo,
    visitor_photo,
)

SLIDE_S: Final = 1.0  # time a person takes to slide fully into (or out of) view
NOISE_LAYERS: Final = 8
NOISE_SIGMA: Final = 2.5  # grey levels; mild, like a decent sensor indoors
NOISE_ROW_STEP: Final = 17  # rows between successive noise windows, so they differ
LIGHT_DRIFT: Final = 0.04  # +-4 % brightness over one period


@dataclass(frozen=True)
class Appearance:
    """One person's pass through the scene; times are seconds within one period."""

    person: str
    known: bool
    start_s: float  # starts sliding in
    end_s: float  # fully gone again


_TIMELINE_30S: Final = (
    Appearance(RESIDENT_NAME, True, 4.0, 11.0),
    Appearance(VISITOR_NAME, False, 15.0, 22.0),
)
_TIMELINE_PERIOD_S: Final = 30.0


class DemoScene:
    """Deterministic RGB frames of the demo hallway; the scene loops every `period_s`."""

    def __init__(
        self,
        width: int = 960,
        height: int = 540,
        fps: float = 10.0,
        period_s: float = 30.0,
        seed: int = 0,
    ) -> None:
        """Load the two photos and draw everything that does not change per frame."""
        if width < 64 or height < 64:
            raise ValueError(f"demo scene too small: {width}x{height}")
        if fps <= 0 or period_s <= 0:
            raise ValueError("fps and period_s must be positive")
        self.width = width
        self.height = height
        self.fps = fps
        self.period_s = period_s
        # Whole frames per period, so frame i and i + period_frames are identical.
        self.period_frames = max(1, round(period_s * fps))
        # The 30 s script stretches with the period, keeping its proportions.
        k = period_s / _TIMELINE_PERIOD_S
        self.timeline: tuple[Appearance, ...] = tuple(
            Appearance(a.person, a.known, a.start_s * k, a.end_s * k) for a in _TIMELINE_30S
        )
        self._sprites = {
            RESIDENT_NAME: make_sprite(load_rgb(resident_photo()), RESIDENT_CROP, height),
            VISITOR_NAME: make_sprite(load_rgb(visitor_photo()), VISITOR_CROP, height),
        }
        self._background = hallway(width, height)
        # Sensor noise, split in a positive and a negative part so cv2's saturating
        # uint8 add/subtract applies it in well under a millisecond. One tall field,
        # read through shifted row windows, stands in for NOISE_LAYERS layers.
        rng = np.random.default_rng(seed)
        rows = height + NOISE_ROW_STEP * (NOISE_LAYERS - 1)
        noise = np.rint(rng.normal(0.0, NOISE_SIGMA, (rows, width, 3)))
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)

    def appearance_at(self, t: float) -> Appearance | None:
        """Who is (at least partly) in the scene at time t within a period, if anyone."""
        for a in self.timeline:
            if a.start_s <= t < a.end_s:
                return a
        return None

    def frame(self, index: int) -> Image:
        """The RGB uint8 picture (height, width, 3) for frame `index`."""
        phase = index % self.period_frames
        t = phase / self.fps
        out = self._background.copy()
        who = self.appearance_at(t)
        if who is not None:
            self._paste(out, self._sprites[who.person], who, t)
        # A slow light drift, locked to the period so the scene loops exactly.
        gain = 1.0 + LIGHT_DRIFT * math.sin(2.0 * math.pi * t / self.period_s)
        cv2.convertScaleAbs(out, out, gain, 0.0)
        row = (phase % NOISE_LAYERS) * NOISE_ROW_STEP
        cv2.add(out, self._noise_up[row : row + self.height], out)
        cv2.subtract(out, self._noise_down[row : row + self.height], out)
        return out

    def _paste(self, out: Image, sprite: Sprite, who: Appearance, t: float) -> None:
        """Draw a person into `out`, sliding in and out, clipped at the frame borders."""
        sh, sw = sprite.pixels.shape[:2]
        stand_x = sprite.center_x * self.width - sw / 2.0
        left_off, right_off = -float(sw), float(self.width)
        enter_from, leave_to = (left_off, right_off) if sprite.from_left else (right_off, left_off)
        slide = min(SLIDE_S, (who.end_s - who.start_s) / 2.0)
        if t < who.start_s + slide:
            x = lerp(enter_from, stand_x, smoothstep((t - who.start_s) / slide))
        elif t > who.end_s - slide:
            x = lerp(stand_x, leave_to, smoothstep((t - (who.end_s - slide)) / slide))
        else:
            x = stand_x
        x0 = round(x)
        y0 = self.height - sh  # standing close to the camera: shoulders leave the frame
        fx0, fx1 = max(0, x0), min(self.width, x0 + sw)
        fy0, fy1 = max(0, y0), min(self.height, y0 + sh)
        if fx0 >= fx1 or fy0 >= fy1:
            return
        sx0, sy0 = fx0 - x0, fy0 - y0
        sx1, sy1 = sx0 + (fx1 - fx0), sy0 + (fy1 - fy0)
        np.copyto(
            out[fy0:fy1, fx0:fx1],
            sprite.pixels[sy0:sy1, sx0:sx1],
            where=sprite.mask[sy0:sy1, sx0:sx1],
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m watcher.source.demo_scene --install-resident DIR`."""
    parser = argparse.ArgumentParser(
        prog="python -m watcher.source.demo_scene",
        description="Helpers for the built-in demo camera.",
    )
    parser.add_argument(
        "--install-resident",
        metavar="DIR",
        type=Path,
        required=True,
        help=f"copy the demo resident's photo into the known-faces folder DIR/{RESIDENT_NAME}/",
    )
    args = parser.parse_args(argv)
    try:
        installed = install_resident(args.install_resident)
    except DemoUnavailable as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        return 1
    if installed is None:
        print(f"demo resident {RESIDENT_NAME} already in {args.install_resident}; left as is")
    else:
        print(f"installed demo resident {RESIDENT_NAME}: {installed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
