"""The built-in demo camera's pictures: real face photos passing through a generated hallway.

A known resident (Grace Hopper, shipped with matplotlib) walks by and must not be
recorded; an unknown visitor (astronaut Eileen Collins, shipped with scikit-image)
must be. dlib puts the two faces about 0.70 apart, far beyond any sane threshold,
so the demo shows both outcomes without a camera or a download.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from watcher.constants import GALLERY_IMAGE_EXTS

Image = npt.NDArray[np.uint8]

RESIDENT_NAME: Final = "grace_hopper"
VISITOR_NAME: Final = "eileen_collins"
DEMO_INSTALL_HINT: Final = "pip install 'watcher[demo]'"

SLIDE_S: Final = 1.0  # time a person takes to slide fully into (or out of) view
FACE_FRACTION: Final = 0.30  # face height / frame height; dlib boxes it 150 px at 540 rows
NOISE_LAYERS: Final = 8
NOISE_SIGMA: Final = 2.5  # grey levels; mild, like a decent sensor indoors
NOISE_ROW_STEP: Final = 17  # rows between successive noise windows, so they differ
LIGHT_DRIFT: Final = 0.04  # +-4 % brightness over one period


class DemoUnavailable(RuntimeError):
    """The optional `demo` extra (matplotlib, scikit-image) is not installed."""


@dataclass(frozen=True)
class Appearance:
    """One person's pass through the scene; times are seconds within one period."""

    person: str
    known: bool
    start_s: float  # starts sliding in
    end_s: float  # fully gone again

    def fully_in_view(self, t: float) -> bool:
        """Whether the person stands still, wholly inside the frame, at time t."""
        return self.start_s + SLIDE_S <= t <= self.end_s - SLIDE_S


@dataclass(frozen=True)
class _PhotoCrop:
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
_RESIDENT_CROP: Final = _PhotoCrop(30, 10, 490, 600, 200, 0.36, True)
_VISITOR_CROP: Final = _PhotoCrop(85, 0, 365, 275, 97, 0.62, False)

_TIMELINE_30S: Final = (
    Appearance(RESIDENT_NAME, True, 4.0, 11.0),
    Appearance(VISITOR_NAME, False, 15.0, 22.0),
)
_TIMELINE_PERIOD_S: Final = 30.0


def _package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DemoUnavailable(f"the demo camera needs {name}: {DEMO_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def resident_photo() -> Path:
    """Path of the resident's photo (Grace Hopper, from matplotlib's sample data)."""
    path = _package_dir("matplotlib") / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    if path.is_file():
        return path
    # Some distributions move mpl-data out of the package; matplotlib knows where.
    # Importing matplotlib itself is cheap and safe, only pyplot picks a backend.
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    except Exception as exc:  # a broken install is still "unavailable" to the demo
        raise DemoUnavailable(f"matplotlib is unusable ({exc}): {DEMO_INSTALL_HINT}") from exc
    if not path.is_file():
        raise DemoUnavailable(f"matplotlib has no grace_hopper.jpg: {DEMO_INSTALL_HINT}")
    return path


def visitor_photo() -> Path:
    """Path of the visitor's photo (Eileen Collins, from scikit-image's bundled data)."""
    # Not via skimage.data: that imports pooch and may try to download.
    path = _package_dir("skimage") / "data" / "astronaut.png"
    if not path.is_file():
        raise DemoUnavailable(f"scikit-image has no astronaut.png: {DEMO_INSTALL_HINT}")
    return path


def _load_rgb(path: Path) -> Image:
    """Read a photo as RGB uint8."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DemoUnavailable(f"cannot read demo photo {path}: {DEMO_INSTALL_HINT}")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _person_exists(known_faces_dir: Path, person: str) -> bool:
    """Whether the gallery already has a folder of images, or an image, for this person."""
    folder = known_faces_dir / person
    if folder.is_dir() and any(
        p.suffix.lower() in GALLERY_IMAGE_EXTS for p in folder.iterdir() if p.is_file()
    ):
        return True
    return any((known_faces_dir / f"{person}{ext}").is_file() for ext in GALLERY_IMAGE_EXTS)


def install_resident(known_faces_dir: Path) -> Path | None:
    """Copy the resident's photo into the gallery unless that person is there; return it."""
    if _person_exists(known_faces_dir, RESIDENT_NAME):
        return None
    source = resident_photo()
    target = known_faces_dir / RESIDENT_NAME / f"{RESIDENT_NAME}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copy then rename, so a watching daemon never loads a half-written image.
    fd, tmp_name = tempfile.mkstemp(prefix=".install-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


@dataclass(frozen=True)
class _Sprite:
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


def _make_sprite(photo: Image, crop: _PhotoCrop, frame_height: int) -> _Sprite:
    """Crop a photo to head and shoulders and scale it so the face has the wanted height."""
    scale = FACE_FRACTION * frame_height / crop.face_px
    cut = photo[crop.y0 : crop.y1, crop.x0 : crop.x1]
    size = (max(1, round(cut.shape[1] * scale)), max(1, round(cut.shape[0] * scale)))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    pixels = np.ascontiguousarray(cv2.resize(cut, size, interpolation=interp), dtype=np.uint8)
    return _Sprite(pixels, _bust_mask(size[1], size[0]), crop.center_x, crop.from_left)


def _hallway(width: int, height: int) -> Image:
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
            RESIDENT_NAME: _make_sprite(_load_rgb(resident_photo()), _RESIDENT_CROP, height),
            VISITOR_NAME: _make_sprite(_load_rgb(visitor_photo()), _VISITOR_CROP, height),
        }
        self._background = _hallway(width, height)
        # Sensor noise, split in a positive and a negative part so cv2's saturating
        # uint8 add/subtract applies it in well under a millisecond. One tall field,
        # read through shifted row windows, stands in for NOISE_LAYERS layers.
        rng = np.random.default_rng(seed)
        rows = height + NOISE_ROW_STEP * (NOISE_LAYERS - 1)
        noise = np.rint(rng.normal(0.0, NOISE_SIGMA, (rows, width, 3)))
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)

    def time_of(self, index: int) -> float:
        """Seconds into the period at which frame `index` is taken."""
        return (index % self.period_frames) / self.fps

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

    def _paste(self, out: Image, sprite: _Sprite, who: Appearance, t: float) -> None:
        """Draw a person into `out`, sliding in and out, clipped at the frame borders."""
        sh, sw = sprite.pixels.shape[:2]
        stand_x = sprite.center_x * self.width - sw / 2.0
        left_off, right_off = -float(sw), float(self.width)
        enter_from, leave_to = (left_off, right_off) if sprite.from_left else (right_off, left_off)
        slide = min(SLIDE_S, (who.end_s - who.start_s) / 2.0)
        if t < who.start_s + slide:
            x = _lerp(enter_from, stand_x, _smoothstep((t - who.start_s) / slide))
        elif t > who.end_s - slide:
            x = _lerp(stand_x, leave_to, _smoothstep((t - (who.end_s - slide)) / slide))
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


def _smoothstep(u: float) -> float:
    """Ease in and out: 0 at u<=0, 1 at u>=1, no jerk at either end."""
    u = min(1.0, max(0.0, u))
    return u * u * (3.0 - 2.0 * u)


def _lerp(a: float, b: float, u: float) -> float:
    """Linear interpolation from a to b."""
    return a + (b - a) * u


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
