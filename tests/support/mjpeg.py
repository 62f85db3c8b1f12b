"""MJPEG for tests: the frames of a real video as JPEG, as a cheap IP camera serves them."""

from __future__ import annotations

from pathlib import Path

import av
import cv2

BOUNDARY = "watcherframe"
FPS = 25


def jpeg_frames(video: Path) -> list[bytes]:
    """Every frame of a video as JPEG bytes (half size: a cheap camera)."""
    out = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            picture = frame.to_ndarray(format="bgr24")
            ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
            assert ok
            out.append(data.tobytes())
    return out
