"""The benchmark footage, composed deterministically from ../shared/media, and its ground truth.

    python bench/footage.py              # build what is missing or stale, verify it, summarise
    python bench/footage.py --force      # rebuild everything
    python bench/footage.py --verify     # re-run the dlib verification of cached footage

Writes to bench/out/ (git-ignored):
  visitors.mp4 + visitors.json   50 s, 1280x720, 25 fps: a still hallway with sensor noise and
                                 slow light drift; three visitors pass (one known, two unknown)
  empty.mp4 + empty.json         120 s of the same hallway with no one, but wind in the tree
                                 outside the window and a shadow sweeping across the room
  startup.mp4 + startup.json     the first second of empty.mp4: each tool's fixed start-up cost
  known_faces*/                  galleries (symlinks to ../shared/media photos, never copies)
  watcher*.yaml                  watcher configs for each scene (replay ignores `source`)

Everything is drawn from fixed seeds: the same version of this file always makes
the same frames. A video is rebuilt only when its JSON names another generator
key (GENERATOR_VERSION plus the hashes of the photos it uses).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import _venv  # noqa: F401  (re-runs under .venv/bin/python if needed)
import av
import cv2
import numpy as np
import numpy.typing as npt
from loops import loop_video

GENERATOR_VERSION = 1

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MEDIA = Path(os.environ.get("WATCHER_BENCH_MEDIA", ROOT.parent / "shared" / "media")).resolve()

W, H, FPS = 1280, 720, 25
CRF = 23
PRESET = "medium"
KEYINT = 50  # a keyframe every 2 s, as many IP cameras send
NOISE_SIGMA = 2.2  # sensor noise, 8-bit levels, per channel
SEED = 20240605

VISITORS_S = 50.0
EMPTY_S = 120.0
STARTUP_S = 1.0
HAMILTON_S = 9.17
# Faces in every frame, for a minute: the media's face clips played back to back.
SINGLE_FACE_LOOPS = 25  # 2.4 s each
HAMILTON_LOOPS = 6  # 9.2 s each

Box = tuple[int, int, int, int]  # (top, right, bottom, left), as dlib / face_recognition
FloatImage = npt.NDArray[np.float32]
RGB = npt.NDArray[np.uint8]


# --------------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class Visitor:
    """A person (a photo cut-out) who walks in, stands a few seconds, and walks out."""

    person: str
    known: bool
    photo: str  # under MEDIA
    face_box: Box  # the face in the photo, as dlib's HOG detector boxes it
    face_px: float  # face box height in the frame on arrival
    grow: float  # face height factor reached at the end of the stay (stepping closer)
    enter_s: float  # first frame showing any of the person
    face_top: float  # y of the face box's top while standing
    stand_x: float  # x of the face's centre while standing
    from_left: bool
    walk_s: float = 0.9  # walking into and out of the frame
    stay_s: float = 5.0

    @property
    def exit_s(self) -> float:
        return self.enter_s + 2 * self.walk_s + self.stay_s


VISITORS: tuple[Visitor, ...] = (
    Visitor(
        person="multi_face.jpg woman, right",
        known=False,
        photo="stills/multi_face.jpg",
        face_box=(308, 786, 415, 678),
        face_px=180,
        grow=1.07,
        enter_s=5.0,
        face_top=150,
        stand_x=560,
        from_left=True,
    ),
    Visitor(
        person="obama",
        known=True,
        photo="faces/obama_1.jpg",
        face_box=(142, 618, 410, 350),
        face_px=200,
        grow=1.07,
        enter_s=20.0,
        face_top=120,
        stand_x=720,
        from_left=False,
    ),
    Visitor(
        person="biden",
        known=False,
        photo="faces/biden_1.jpg",
        face_box=(242, 742, 563, 420),
        face_px=190,
        grow=1.07,
        enter_s=35.0,
        face_top=140,
        stand_x=620,
        from_left=True,
    ),
)
GALLERY_PHOTO = "faces/obama_2.jpg"  # the known visitor's other photo
GALLERY_PERSON = "obama"


@dataclass(frozen=True)
class Visit:
    """Ground truth of one person's visit, in media seconds."""

    person: str
    known: bool
    arrival_s: float  # the face is fully in view from this frame on
    leave_s: float  # ...until this frame
    enter_s: float | None = None  # first frame showing any of the person
    exit_s: float | None = None  # first frame with nothing of the person left
    face_px: tuple[float, float] | None = None  # face box height range while fully in view
    note: str = ""


@dataclass(frozen=True)
class Scene:
    """One benchmark input: the video, the watcher config and gallery, and the ground truth."""

    name: str
    video: Path
    config: Path
    gallery: Path
    duration_s: float
    visits: list[Visit] = field(default_factory=list)
    note: str = ""
    # Faces too small for the recipe's 1/4 scale: the naive peer is also run at full scale.
    small_faces: bool = False

    @property
    def expected_events(self) -> int:
        return sum(1 for v in self.visits if not v.known)


# --------------------------------------------------------------------------- the hallway


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


class _WindowView:
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


def _hallway(rng: np.random.Generator) -> tuple[FloatImage, _WindowView]:
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
    view = _WindowView(rng)
    roi = img[y0:y1, x0:x1]
    roi[view.glass] = view.render(0.0, 0.0)[view.glass]
    return np.ascontiguousarray(img), view


# --------------------------------------------------------------------------- visitors


@dataclass
class _Cutout:
    rgb: FloatImage  # at the largest scale used
    alpha: FloatImage
    face: tuple[float, float, float, float]  # top, right, bottom, left in cut-out pixels
    fcx: float


def _cutout(v: Visitor) -> _Cutout:
    """Head and shoulders of the photo, scaled, with a feathered silhouette mask."""
    bgr = cv2.imread(str(MEDIA / v.photo), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(MEDIA / v.photo)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    ph, pw = rgb.shape[:2]
    ft, fr, fb, fl = v.face_box
    fh, fw = fb - ft, fr - fl
    fcx = (fl + fr) / 2
    scale = v.face_px * v.grow / fh
    min_scale = v.face_px / fh
    cx0 = max(0, round(fcx - 1.75 * fw))
    cx1 = min(pw, round(fcx + 1.75 * fw))
    cy0 = max(0, round(ft - 0.75 * fh))
    cy1 = min(ph, round(ft + (H + 40) / min_scale))
    crop = rgb[cy0:cy1, cx0:cx1]
    # Silhouette in crop coordinates: head, neck, shoulders down to the crop's bottom.
    mask = np.zeros(crop.shape[:2], np.uint8)
    c = (fcx - cx0, ft - cy0)
    cv2.ellipse(
        mask,
        (round(c[0]), round(c[1] + 0.36 * fh)),
        (round(0.72 * fw), round(1.02 * fh)),
        0,
        0,
        360,
        255,
        -1,
    )
    bottom = crop.shape[0]
    neck = [(-0.36, 0.8), (0.36, 0.8), (0.36, 1.65), (-0.36, 1.65)]
    body = [
        (-0.55, 1.35),
        (0.55, 1.35),
        (1.45, 1.75),
        (1.62, 2.4),
        (1.62, 99),
        (-1.62, 99),
        (-1.62, 2.4),
        (-1.45, 1.75),
    ]
    for shape in (neck, body):
        pts = [(c[0] + a * fw, min(bottom, c[1] + b * fh)) for a, b in shape]
        cv2.fillPoly(mask, [np.round(np.array(pts)).astype(np.int32)], 255)
    size = (round(crop.shape[1] * scale), round(crop.shape[0] * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out_rgb = cv2.resize(crop.astype(np.float32), size, interpolation=interp)
    alpha = cv2.resize(mask.astype(np.float32) / 255, size, interpolation=cv2.INTER_LINEAR)
    sigma = max(1.0, 0.025 * fw * scale)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
    face = ((ft - cy0) * scale, (fr - cx0) * scale, (fb - cy0) * scale, (fl - cx0) * scale)
    return _Cutout(
        np.clip(out_rgb, 0, 255).astype(np.float32),
        np.asarray(alpha, np.float32),
        face,
        (fcx - cx0) * scale,
    )


def _smoothstep(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def _pose(v: Visitor, cut: _Cutout, t: float) -> tuple[float, float, float] | None:
    """(scale factor, face centre x, face top y) at media time t, or None when out of the scene."""
    tau = t - v.enter_s
    if tau < 0 or t >= v.exit_s:
        return None
    w = cut.rgb.shape[1]
    f0 = 1 / v.grow
    if v.from_left:
        x_in = -(w - cut.fcx) * f0 - 2
        x_out = W + cut.fcx + 2
    else:
        x_in = W + cut.fcx * f0 + 2
        x_out = -(w - cut.fcx) - 2
    step = 6.0 * abs(math.sin(2 * math.pi * 0.9 * tau))  # the bob of walking
    if tau < v.walk_s:
        e = 1 - (1 - tau / v.walk_s) ** 2  # slowing down to stop
        return f0, x_in + (v.stand_x - x_in) * e, v.face_top - step
    if tau < v.walk_s + v.stay_s:
        s = tau - v.walk_s
        f = f0 + (1 - f0) * _smoothstep(s / v.stay_s)
        x = v.stand_x + 5.0 * math.sin(2 * math.pi * 0.3 * s)
        return f, x, v.face_top + 2.0 * math.sin(2 * math.pi * 0.45 * s)
    e = ((tau - v.walk_s - v.stay_s) / v.walk_s) ** 2  # speeding up to leave
    return 1.0, v.stand_x + (x_out - v.stand_x) * e, v.face_top - step


def _place(cut: _Cutout, pose: tuple[float, float, float]) -> tuple[int, int, float]:
    f, cx, top = pose
    return round(cx - cut.fcx * f), round(top - cut.face[0] * f), f


def _face_in_frame(cut: _Cutout, pose: tuple[float, float, float]) -> tuple[float, ...]:
    x0, y0, f = _place(cut, pose)
    t, r, b, left = cut.face
    return (y0 + t * f, x0 + r * f, y0 + b * f, x0 + left * f)


def _composite(frame: FloatImage, cut: _Cutout, pose: tuple[float, float, float]) -> None:
    x0, y0, f = _place(cut, pose)
    h, w = cut.rgb.shape[:2]
    if f < 0.999:
        size = (max(1, round(w * f)), max(1, round(h * f)))
        rgb = cv2.resize(cut.rgb, size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(cut.alpha, size, interpolation=cv2.INTER_AREA)
    else:
        rgb, alpha = cut.rgb, cut.alpha
    h, w = rgb.shape[:2]
    fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    src = rgb[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    a = alpha[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None]
    roi = frame[fy0:fy1, fx0:fx1]
    roi *= 1 - a
    roi += src * a


# --------------------------------------------------------------------------- rendering


def _light(t: float) -> npt.NDArray[np.float32]:
    """Slow drift of the light: overall level and a touch of colour temperature."""
    g = 1 + 0.05 * math.sin(2 * math.pi * t / 47 + 0.3) + 0.015 * math.sin(2 * math.pi * t / 9.7)
    warm = 0.012 * math.sin(2 * math.pi * t / 61)
    return np.array([g * (1 + warm), g, g * (1 - warm)], np.float32)


def _shadow(t: float) -> FloatImage:
    """A soft shadow band sweeping across the room every 40 s (a cloud, a passing car)."""
    xc = -300 + (t % 40.0) / 40.0 * (W + 600)
    xs = np.arange(W, dtype=np.float32)
    col = 1 - 0.10 * np.exp(-(((xs - xc) / 140.0) ** 2))
    return col[None, :, None].astype(np.float32)


def frames(kind: str, duration_s: float) -> Iterator[RGB]:
    """The frames of a scene: `visitors` (still, people pass) or `empty` (wind, shadow)."""
    rng = np.random.default_rng(SEED)
    background, view = _hallway(rng)
    noise_rng = np.random.default_rng([SEED, 1 if kind == "visitors" else 2])
    cutouts = [_cutout(v) for v in VISITORS] if kind == "visitors" else []
    x0, y0, x1, y1 = WINDOW
    for i in range(round(duration_s * FPS)):
        t = i / FPS
        frame = background.copy()
        if kind == "empty":
            frame[y0:y1, x0:x1][view.glass] = view.render(t, 1.0)[view.glass]
        for v, cut in zip(VISITORS if cutouts else (), cutouts, strict=True):
            pose = _pose(v, cut, t)
            if pose is not None:
                _composite(frame, cut, pose)
        frame *= _light(t)
        if kind == "empty":
            frame *= _shadow(t)
        frame += noise_rng.standard_normal((H, W, 3), dtype=np.float32) * NOISE_SIGMA
        np.clip(frame, 0, 255, out=frame)
        yield frame.astype(np.uint8)


def ground_truth() -> list[Visit]:
    """Each visitor's timing, from the same geometry that draws them."""
    visits = []
    for v in VISITORS:
        cut = _cutout(v)
        inside: list[tuple[float, float]] = []
        for i in range(round(v.enter_s * FPS), round(v.exit_s * FPS) + 1):
            t = i / FPS
            pose = _pose(v, cut, t)
            if pose is None:
                continue
            top, right, bottom, left = _face_in_frame(cut, pose)
            if top >= 0 and left >= 0 and bottom <= H and right <= W:
                inside.append((t, bottom - top))
        visits.append(
            Visit(
                person=v.person,
                known=v.known,
                arrival_s=round(inside[0][0], 3),
                leave_s=round(inside[-1][0], 3),
                enter_s=v.enter_s,
                exit_s=round(v.exit_s, 3),
                face_px=(round(min(h for _, h in inside)), round(max(h for _, h in inside))),
                note=f"{v.photo}; "
                + (f"known (gallery: {GALLERY_PHOTO})" if v.known else "unknown"),
            )
        )
    return visits


def encode(path: Path, images: Iterator[RGB], total: int, label: str) -> None:
    """H.264 (libx264, yuv420p) in MP4, written to a temporary name then moved in place."""
    tmp = path.with_name(path.stem + ".partial.mp4")
    started = time.monotonic()
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream(
            "libx264",
            rate=FPS,
            options={
                "crf": str(CRF),
                "preset": PRESET,
                "threads": "2",  # fixed, so the bitstream does not depend on the core count
                "x264-params": f"keyint={KEYINT}:min-keyint={KEYINT}:scenecut=0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i, rgb in enumerate(images):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
            if (i + 1) % (10 * FPS) == 0:
                done = (i + 1) / total
                print(
                    f"  {label}: {done:4.0%} ({time.monotonic() - started:.0f} s)",
                    file=sys.stderr,
                )
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)


# --------------------------------------------------------------------------- verification


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    inter = max(0.0, bottom - top) * max(0.0, right - left)
    union = (a[2] - a[0]) * (a[1] - a[3]) + (b[2] - b[0]) * (b[1] - b[3]) - inter
    return inter / union if union > 0 else 0.0


def verify(kind: str, video: Path, visits: list[Visit]) -> dict[str, Any]:
    """Check with dlib (HOG at full resolution, no upsampling) what the ground truth claims.

    Visitors: while fully in view each face is found (every frame of the walks, every
    5th frame of the stay), the known one within 0.5 of the gallery, the unknown ones
    beyond 0.65; no face anywhere else (every 10th frame). Empty: no face (every 10th frame).
    """
    from watcher.constants import HOG_WINDOW_PX
    from watcher.faces import open_engine
    from watcher.faces.gallery import load_gallery

    engine = open_engine()
    gallery = load_gallery(engine, OUT / "known_faces")
    cutouts = [_cutout(v) for v in VISITORS] if kind == "visitors" else []
    problems: list[str] = []
    stats: list[dict[str, Any]] = [
        {
            "person": v.person,
            "checked": 0,
            "found": 0,
            "heights": [],
            "distances": [],
            "first_found_s": None,
        }
        for v in visits
    ]
    empty_checked = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            t = i / FPS
            active = None
            for k, (v, cut) in enumerate(zip(VISITORS if cutouts else (), cutouts, strict=True)):
                pose = _pose(v, cut, t)
                if pose is not None:
                    active = (k, v, cut, pose)
            if active is None:
                if i % 10:
                    continue
                rgb: RGB = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                boxes = engine.detect(rgb, HOG_WINDOW_PX)
                empty_checked += 1
                if boxes:
                    problems.append(f"{t:.2f} s: {len(boxes)} face(s) where there is no one")
                continue
            k, v, cut, pose = active
            expected = _face_in_frame(cut, pose)
            fully = expected[0] >= 0 and expected[3] >= 0 and expected[2] <= H and expected[1] <= W
            walking = not (v.enter_s + v.walk_s <= t < v.enter_s + v.walk_s + v.stay_s)
            if not walking and i % 5:
                continue
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
            boxes = engine.detect(rgb, HOG_WINDOW_PX)
            hits = [b for b in boxes if _iou(tuple(float(x) for x in b), expected) > 0.3]
            if len(boxes) > len(hits):
                problems.append(f"{t:.2f} s: a face away from {v.person}'s")
            st = stats[k]
            if hits and st["first_found_s"] is None:
                st["first_found_s"] = round(t, 3)
            if not fully:
                continue
            st["checked"] += 1
            if not hits:
                problems.append(f"{t:.2f} s: {v.person} fully in view but not found")
                continue
            st["found"] += 1
            box = hits[0]
            st["heights"].append(box[2] - box[0])
            match = gallery.match(engine.embed(rgb, [box]), 0.6)[0]
            st["distances"].append(match.distance)
    for visit, st in zip(visits, stats, strict=True):
        ds = [d for d in st.pop("distances") if d is not None]
        hs = st.pop("heights")
        st["face_px"] = [min(hs), max(hs)] if hs else None
        st["distance"] = [round(min(ds), 3), round(max(ds), 3)] if ds else None
        if hs and (min(hs) < 100 or max(hs) > 250):
            problems.append(f"{visit.person}: face heights {st['face_px']} outside 100-250 px")
        if visit.known and (not ds or max(ds) >= 0.5):
            problems.append(f"{visit.person} (known): distance {st['distance']}, must be < 0.5")
        if not visit.known and (not ds or min(ds) <= 0.65):
            problems.append(f"{visit.person} (unknown): distance {st['distance']}, must be > 0.65")
    return {
        "ok": not problems,
        "detector": "dlib HOG, full resolution, upsample 0 (FaceEngine.detect at 80 px)",
        "gallery": gallery.people,
        "empty_frames_checked": empty_checked,
        "visitors": stats,
        "problems": problems,
    }


# --------------------------------------------------------------------------- build


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def generator_key() -> str:
    """Changes whenever the frames could: this file's version or the photos it uses."""
    photos = sorted({v.photo for v in VISITORS} | {GALLERY_PHOTO})
    return f"v{GENERATOR_VERSION}:" + ",".join(f"{p}={_sha(MEDIA / p)}" for p in photos)


def _link(target: Path, link: Path) -> None:
    """Point `link` at `target` (a symlink: the photos stay in ../shared/media)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == target.resolve():
            return
        link.unlink()
    link.symlink_to(target)


_CONFIG = """\
# Written by bench/footage.py: the benchmark's watcher config ({what}).
# `watcher replay` ignores the camera source; base_dir is this folder (bench/out).
known_faces_dir: {gallery}
recordings_dir: recordings
database_url: sqlite:///watcher.db
log_level: WARNING
cameras:
  bench:
    source: demo
"""


def write_galleries_and_configs() -> dict[str, tuple[Path, Path]]:
    """The galleries and configs of every scene: name -> (config, gallery)."""
    OUT.mkdir(parents=True, exist_ok=True)
    specs = {
        "watcher.yaml": ("known_faces", {GALLERY_PERSON: GALLERY_PHOTO}, "visitors, empty"),
        "watcher-hamilton.yaml": (
            "known_faces_hamilton",
            {"lin_manuel_miranda": "faces/lin_manuel_miranda_1.png"},
            "short_hamilton_clip.mp4",
        ),
        "watcher-nobody.yaml": ("known_faces_empty", {}, "single_face.mp4: nobody is known"),
    }
    out: dict[str, tuple[Path, Path]] = {}
    for config_name, (gallery_name, people, what) in specs.items():
        gallery = OUT / gallery_name
        gallery.mkdir(exist_ok=True)
        for person, photo in people.items():
            _link(MEDIA / photo, gallery / person / Path(photo).name)
        config = OUT / config_name
        text = _CONFIG.format(gallery=gallery_name, what=what)
        if not config.is_file() or config.read_text() != text:
            config.write_text(text)
        out[config_name] = (config, gallery)
    return out


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta


def _visit_from_json(d: dict[str, Any]) -> Visit:
    face = d.get("face_px")
    return Visit(
        person=d["person"],
        known=d["known"],
        arrival_s=d["arrival_s"],
        leave_s=d["leave_s"],
        enter_s=d.get("enter_s"),
        exit_s=d.get("exit_s"),
        face_px=(face[0], face[1]) if face else None,
        note=d.get("note", ""),
    )


def _build_one(
    kind: str,
    name: str,
    duration_s: float,
    visits: list[Visit],
    force: bool,
    reverify: bool,
    check: bool,
) -> dict[str, Any]:
    video, meta_path = OUT / f"{name}.mp4", OUT / f"{name}.json"
    key = generator_key()
    meta = _read_meta(meta_path)
    fresh = not force and video.is_file() and meta is not None and meta.get("generator") == key
    if not fresh:
        print(f"footage: encoding {video.relative_to(ROOT)} ({duration_s:.0f} s)", file=sys.stderr)
        meta_path.unlink(missing_ok=True)
        encode(video, frames(kind, duration_s), round(duration_s * FPS), name)
        meta = None
    if meta is None:
        meta = {
            "generator": key,
            "video": video.name,
            "width": W,
            "height": H,
            "fps": FPS,
            "duration_s": duration_s,
            "frames": round(duration_s * FPS),
            "encoding": f"libx264 crf {CRF} preset {PRESET}, keyint {KEYINT}, yuv420p",
            "noise_sigma": NOISE_SIGMA,
            "motion": "none (still scene, light drift)"
            if kind == "visitors"
            else "wind in the tree outside the window, a shadow sweeping every 40 s",
            "visits": [asdict(v) for v in visits],
            "verification": None,
        }
    if check and (reverify or meta.get("verification") is None):
        print(f"footage: verifying {video.name} with dlib", file=sys.stderr)
        meta["verification"] = verify(kind, video, visits)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def hamilton_visits(offset_s: float = 0.0, play: int | None = None) -> list[Visit]:
    """Ground truth of short_hamilton_clip.mp4, played from `offset_s` on (its `play`-th time)."""
    nth = "" if play is None else f" (play {play})"
    return [
        Visit(
            f"lin_manuel_miranda{nth}",
            True,
            offset_s + 0.0,
            offset_s + 7.0,
            note="in profile 0.7-2.7 s; full-res HOG finds him 2.74-7.04 s",
        ),
        Visit(
            f"audience member{nth}",
            False,
            offset_s + 7.04,
            offset_s + 8.34,
            face_px=(72, 72),
            note="shot cut at 7.04 s; full-res HOG (no upsampling) finds the face "
            "7.24-8.34 s, 72 px box, distance >= 0.69",
        ),
    ]


def build(force: bool = False, reverify: bool = False, check: bool = True) -> list[Scene]:
    """Make (or reuse) all footage, galleries and configs; return the benchmark's scenes."""
    configs = write_galleries_and_configs()
    visitor_visits = ground_truth()
    metas = {
        "visitors": _build_one(
            "visitors", "visitors", VISITORS_S, visitor_visits, force, reverify, check
        ),
        "empty": _build_one("empty", "empty", EMPTY_S, [], force, reverify, check),
        "startup": _build_one("empty", "startup", STARTUP_S, [], force, reverify, False),
    }
    for name, meta in metas.items():
        ver = meta.get("verification")
        if ver is not None and not ver["ok"]:
            print(f"footage: {name}: VERIFICATION FAILED:", file=sys.stderr)
            for p in ver["problems"][:20]:
                print(f"  {p}", file=sys.stderr)
    sf_period = loop_video(
        MEDIA / "video" / "single_face.mp4", OUT / "single_face_x25.mp4", SINGLE_FACE_LOOPS
    )
    ham_period = loop_video(
        MEDIA / "video" / "short_hamilton_clip.mp4", OUT / "hamilton_x6.mp4", HAMILTON_LOOPS
    )
    own_config, own_gallery = configs["watcher.yaml"]
    ham_config, ham_gallery = configs["watcher-hamilton.yaml"]
    nobody_config, nobody_gallery = configs["watcher-nobody.yaml"]
    return [
        Scene(
            "visitors",
            OUT / "visitors.mp4",
            own_config,
            own_gallery,
            VISITORS_S,
            [_visit_from_json(d) for d in metas["visitors"]["visits"]],
            "720p25, still hallway; 1 known + 2 unknown visitors",
        ),
        Scene(
            "empty",
            OUT / "empty.mp4",
            own_config,
            own_gallery,
            EMPTY_S,
            [],
            "720p25, no one; wind in a tree, a sweeping shadow",
        ),
        Scene(
            "single_face",
            MEDIA / "video" / "single_face.mp4",
            nobody_config,
            nobody_gallery,
            2.4,
            [Visit("the man in single_face.mp4", False, 0.0, 2.367, face_px=(150, 190))],
            "640x360 30 fps, one unknown face in every frame; empty gallery",
        ),
        Scene(
            "hamilton",
            MEDIA / "video" / "short_hamilton_clip.mp4",
            ham_config,
            ham_gallery,
            HAMILTON_S,
            hamilton_visits(),
            "640x360 29.97 fps; gallery: lin_manuel_miranda_1.png",
            small_faces=True,
        ),
        Scene(
            "single_face_x25",
            OUT / "single_face_x25.mp4",
            nobody_config,
            nobody_gallery,
            SINGLE_FACE_LOOPS * sf_period,
            [
                Visit(
                    "the man in single_face.mp4",
                    False,
                    0.0,
                    SINGLE_FACE_LOOPS * sf_period,
                    face_px=(150, 190),
                    note=f"single_face.mp4 played {SINGLE_FACE_LOOPS} times",
                )
            ],
            f"single_face.mp4 x{SINGLE_FACE_LOOPS}: one unknown face in every frame",
        ),
        Scene(
            "hamilton_x6",
            OUT / "hamilton_x6.mp4",
            ham_config,
            ham_gallery,
            HAMILTON_LOOPS * ham_period,
            [v for k in range(HAMILTON_LOOPS) for v in hamilton_visits(k * ham_period, play=k + 1)],
            f"short_hamilton_clip.mp4 x{HAMILTON_LOOPS}: the known performer, then an "
            "unknown audience face, six times",
            small_faces=True,
        ),
        Scene(
            "startup",
            OUT / "startup.mp4",
            own_config,
            own_gallery,
            STARTUP_S,
            [],
            "the first second of empty.mp4: start-up cost",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="re-encode even if cached")
    parser.add_argument("--verify", action="store_true", help="re-run the dlib verification")
    parser.add_argument("--no-verify", action="store_true", help="skip the dlib verification")
    args = parser.parse_args(argv)
    scenes = build(force=args.force, reverify=args.verify, check=not args.no_verify)
    ok = True
    for scene in scenes:
        meta = _read_meta(scene.video.with_suffix(".json")) if scene.video.parent == OUT else None
        ver = meta.get("verification") if meta else None
        status = "" if ver is None else (" verified" if ver["ok"] else " VERIFICATION FAILED")
        ok = ok and (ver is None or ver["ok"])
        print(f"{scene.name}: {scene.video} ({scene.duration_s:g} s){status}")
        for v in scene.visits:
            kind = "known" if v.known else "UNKNOWN"
            face = f", face {v.face_px[0]:g}-{v.face_px[1]:g} px" if v.face_px else ""
            print(
                f"  {kind:7} {v.person}: in view {v.arrival_s:.2f}-{v.leave_s:.2f} s{face}"
                + (f"  [{v.note}]" if v.note else "")
            )
        if ver:
            for st in ver["visitors"]:
                print(
                    f"  dlib: {st['person']}: found {st['found']}/{st['checked']} fully-in-view "
                    f"checks, first at {st['first_found_s']} s, face {st['face_px']} px, "
                    f"distance {st['distance']}"
                )
            for p in ver["problems"]:
                print(f"  problem: {p}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
