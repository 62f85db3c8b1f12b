"""Every frame of a scene, its ground truth, and the H.264 file they are encoded to."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from bench.footage.cutouts import composite, cutout, face_in_frame, pose_at
from bench.footage.hallway import WINDOW, hallway
from bench.footage.scenes import (
    CRF,
    FPS,
    GALLERY_PHOTO,
    KEYINT,
    NOISE_SIGMA,
    PRESET,
    RGB,
    SEED,
    VISITORS,
    FloatImage,
    H,
    Visit,
    W,
)


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
    background, view = hallway(rng)
    noise_rng = np.random.default_rng([SEED, 1 if kind == "visitors" else 2])
    cutouts = [cutout(v) for v in VISITORS] if kind == "visitors" else []
    x0, y0, x1, y1 = WINDOW
    for i in range(round(duration_s * FPS)):
        t = i / FPS
        frame = background.copy()
        if kind == "empty":
            frame[y0:y1, x0:x1][view.glass] = view.render(t, 1.0)[view.glass]
        for v, cut in zip(VISITORS if cutouts else (), cutouts, strict=True):
            pose = pose_at(v, cut, t)
            if pose is not None:
                composite(frame, cut, pose)
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
        cut = cutout(v)
        inside: list[tuple[float, float]] = []
        for i in range(round(v.enter_s * FPS), round(v.exit_s * FPS) + 1):
            t = i / FPS
            pose = pose_at(v, cut, t)
            if pose is None:
                continue
            top, right, bottom, left = face_in_frame(cut, pose)
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
