"""Small composed camera clips for the decoding tests: a still scene, then maybe a visitor.

Real cameras send a still scene as tiny P-frames around keyframes every few
seconds; these clips are encoded the same way (libx264, a fixed GOP, optional
B-frames) from a real photo of a room-like background with sensor noise, and a
real face photo (a stranger to an empty gallery) that slides in and stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.support.media import FACES

W, H, FPS = 640, 360, 25
NOISE_SIGMA = 2.0  # 8-bit levels: a camera's sensor noise
VISITOR = FACES / "biden_1.jpg"
# The visitor's head and shoulders in VISITOR (top, right, bottom, left), and its size here.
VISITOR_CROP = (142, 842, 663, 320)
VISITOR_PX = 200
WALK_S = 0.8  # sliding in from the left edge to where they stand


@dataclass(frozen=True)
class Clip:
    """A composed clip and when its visitor (if any) is fully in view, and gone."""

    path: Path
    arrival_s: float | None
    gone_s: float | None = None


def _background() -> np.ndarray:
    """A room drawn, not photographed (a photo may hold faces): a lit wall, a floor,
    a door and some furniture, with texture for the encoder to spend bits on."""
    rng = np.random.default_rng(11)
    rows = np.linspace(150, 95, H, dtype=np.float32)[:, None, None]
    image = np.repeat(np.repeat(rows, W, axis=1), 3, axis=2) * np.array([1.0, 0.95, 0.85])
    image[round(H * 0.72) :] = (90, 70, 55)  # the floor
    for top, right, bottom, left, colour in (
        (60, 140, 265, 40, (120, 85, 60)),  # a door
        (170, 600, 265, 470, (60, 70, 95)),  # a sofa
        (90, 420, 150, 330, (200, 190, 160)),  # a picture on the wall
    ):
        image[top:bottom, left:right] = colour
    texture = cv2.GaussianBlur(rng.normal(0, 12, (H, W)).astype(np.float32), (5, 5), 0)[..., None]
    return np.clip(image + texture, 0, 255).astype(np.uint8)


def _visitor() -> np.ndarray:
    image = cv2.imread(str(VISITOR))
    assert image is not None, VISITOR
    top, right, bottom, left = VISITOR_CROP
    crop = image[top:bottom, left:right]
    crop = cv2.resize(crop, (VISITOR_PX, VISITOR_PX), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)


def compose(
    path: Path,
    seconds: float,
    enter_s: float | None = None,
    *,
    leave_s: float | None = None,
    gop_s: float = 2.0,
    bframes: int = 0,
    seed: int = 7,
    cbr_kbps: int | None = None,
) -> Clip:
    """Write a still scene of `seconds` (a visitor walking in at `enter_s`, and out to
    the right at `leave_s`) as H.264 MP4."""
    rng = np.random.default_rng(seed)
    background = _background().astype(np.float32)
    visitor = _visitor()
    stand_x, top = W // 2 - VISITOR_PX // 2, H // 2 - VISITOR_PX // 2
    keyint = round(gop_s * FPS)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        params = f"keyint={keyint}:min-keyint={keyint}:scenecut=0:bframes={bframes}"
        if cbr_kbps is None:
            stream.options = {"preset": "veryfast", "crf": "23", "x264-params": params}
        else:  # constant bitrate, padded with filler: packet sizes no longer follow motion
            rate = f"bitrate={cbr_kbps}:vbv-maxrate={cbr_kbps}:vbv-bufsize={cbr_kbps}"
            stream.options = {
                "preset": "veryfast",
                "x264-params": f"{params}:nal-hrd=cbr:filler=1:{rate}",
            }
        for i in range(round(seconds * FPS)):
            t = i / FPS
            noisy = background + rng.normal(0.0, NOISE_SIGMA, background.shape)
            frame = np.clip(noisy, 0, 255).astype(np.uint8)
            if enter_s is not None and t >= enter_s:
                walked = min(1.0, (t - enter_s) / WALK_S)
                x = round(-VISITOR_PX + walked * (stand_x + VISITOR_PX))
                if leave_s is not None and t >= leave_s:
                    x = round(stand_x + (t - leave_s) / WALK_S * (W - stand_x))
                left, right = max(0, x), min(W, x + VISITOR_PX)
                if right > left:
                    frame[top : top + VISITOR_PX, left:right] = visitor[:, left - x : right - x]
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts, picture.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(picture):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    arrival = None if enter_s is None else enter_s + WALK_S
    return Clip(path, arrival, None if leave_s is None else leave_s + WALK_S)
