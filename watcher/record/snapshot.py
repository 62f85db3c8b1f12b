"""Snapshots: the frame that started an event with the unknown face boxed, and the face crop."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from watcher.core import Box, RGBImage

_BOX_COLOUR_RGB = (255, 0, 0)  # red: a stranger
_JPEG_QUALITY = 90
_CROP_MARGIN = 0.35  # keep some hair and chin around the detector's tight box


def write_jpeg(path: Path, rgb: RGBImage) -> None:
    """Write an RGB picture as JPEG; raise OSError with the reason on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise OSError(f"{path}: JPEG encoding failed")
    path.write_bytes(data.tobytes())


def boxed(rgb: RGBImage, boxes: list[Box]) -> RGBImage:
    """A copy of the frame with a rectangle around each box."""
    out = np.ascontiguousarray(rgb.copy())
    thickness = max(2, rgb.shape[0] // 240)
    for top, right, bottom, left in boxes:
        cv2.rectangle(out, (left, top), (right, bottom), _BOX_COLOUR_RGB, thickness)
    return out


def crop(rgb: RGBImage, box: Box) -> RGBImage:
    """The face at `box` with a margin, clipped to the frame."""
    top, right, bottom, left = box
    mh, mw = int((bottom - top) * _CROP_MARGIN), int((right - left) * _CROP_MARGIN)
    h, w = rgb.shape[:2]
    return np.ascontiguousarray(
        rgb[max(0, top - mh) : min(h, bottom + mh), max(0, left - mw) : min(w, right + mw)]
    )
