"""The visitors: a photo's head and shoulders cut out, walking in, standing, walking out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from bench.footage.scenes import FloatImage, H, Visitor, W
from bench.paths import MEDIA


@dataclass
class Cutout:
    rgb: FloatImage  # at the largest scale used
    alpha: FloatImage
    face: tuple[float, float, float, float]  # top, right, bottom, left in cut-out pixels
    fcx: float


def cutout(v: Visitor) -> Cutout:
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
    return Cutout(
        np.clip(out_rgb, 0, 255).astype(np.float32),
        np.asarray(alpha, np.float32),
        face,
        (fcx - cx0) * scale,
    )


def _smoothstep(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def pose_at(v: Visitor, cut: Cutout, t: float) -> tuple[float, float, float] | None:
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


def _place(cut: Cutout, pose: tuple[float, float, float]) -> tuple[int, int, float]:
    f, cx, top = pose
    return round(cx - cut.fcx * f), round(top - cut.face[0] * f), f


def face_in_frame(cut: Cutout, pose: tuple[float, float, float]) -> tuple[float, ...]:
    x0, y0, f = _place(cut, pose)
    t, r, b, left = cut.face
    return (y0 + t * f, x0 + r * f, y0 + b * f, x0 + left * f)


def composite(frame: FloatImage, cut: Cutout, pose: tuple[float, float, float]) -> None:
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
