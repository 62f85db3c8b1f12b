"""`watcher faces add NAME CLIP.mp4`: a handful of good, different looks from a short video.

A phone video of one person turning their head and walking up gives the gallery
what a single photo cannot: several angles and distances. Frames are sampled a
few times a second; only good looks (faces/quality.py) of exactly one face are
considered, and the chosen ones are as unlike each other as possible (farthest-
point selection on the embeddings). A clip whose good looks are farther apart
than one person's usually are shows two people: it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from watcher.core import Box, Embeddings, FaceEngine, GreyImage, RGBImage
from watcher.faces.quality import measure

VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"})
SAMPLE_FPS = 4.0  # frames looked at per second of video
MAX_VIDEO_S = 120.0  # a longer video is read up to here: enough for a handful of looks
MAX_LOOKS = 5  # photos kept from one clip
MIN_FACE_PX = 80  # the gallery's useful face size (gallery.USEFUL_FACE_PX)
# Two good looks of one person are rarely farther apart than this (people/: the
# largest same-person distance is 0.61, for a photo decades older); farther, the
# clip shows somebody else too.
SAME_PERSON_MAX = 0.62
_MARGIN = 0.5  # the crop keeps half a face of context on each side (HOG needs it)


class VideoError(ValueError):
    """The video cannot give gallery photos; the message is one line for the user."""


@dataclass(frozen=True)
class VideoLook:
    """One good look taken from the video, as a photo to keep."""

    t: float
    jpeg: bytes
    vector: Embeddings
    face_px: int


def is_video_name(path: Path) -> bool:
    """Whether `faces add` reads this file as a video (by its extension)."""
    return path.suffix.lower() in VIDEO_EXTS


def _frames(path: Path) -> list[tuple[float, RGBImage]]:
    """Frames sampled at SAMPLE_FPS, as RGB, with their time."""
    out: list[tuple[float, RGBImage]] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            next_t = 0.0
            for frame in container.decode(stream):
                t = float(frame.time or 0.0)
                if t > MAX_VIDEO_S:
                    break
                if t + 1e-6 < next_t:
                    continue
                next_t = t + 1.0 / SAMPLE_FPS
                out.append((t, np.ascontiguousarray(frame.to_ndarray(format="rgb24"))))
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise VideoError(f"cannot read the video: {exc}") from None
    return out


def _crop(rgb: RGBImage, box: Box) -> RGBImage:
    height, width = rgb.shape[:2]
    grown = Box(*box).grown(round(box.height * _MARGIN)).clamped(width, height)
    return np.ascontiguousarray(rgb[grown.top : grown.bottom, grown.left : grown.right])


def good_looks(engine: FaceEngine, path: Path) -> list[VideoLook]:
    """Up to MAX_LOOKS good, mutually different looks of the one person in the video."""
    candidates: list[VideoLook] = []
    for t, rgb in _frames(path):
        grey: GreyImage = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        boxes = engine.detect(grey, MIN_FACE_PX)
        if len(boxes) != 1:
            continue  # nobody, or a second face that could be taken for the person
        vectors, points = engine.embed_faces(rgb, boxes)
        if not measure(grey, boxes[0], points[0]).good:
            continue
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(_crop(rgb, boxes[0]), cv2.COLOR_RGB2BGR))
        if ok:
            candidates.append(VideoLook(t, jpeg.tobytes(), vectors[0], boxes[0].height))
    if not candidates:
        raise VideoError("no good look at a face in the video (big, sharp, frontal, alone)")
    matrix = np.asarray([c.vector for c in candidates])
    spread = np.linalg.norm(matrix[:, None, :] - matrix[None, :, :], axis=2)
    if spread.max() > SAME_PERSON_MAX:
        raise VideoError(
            f"the video seems to show more than one person (looks {spread.max():.2f} apart)"
        )
    # Farthest-point selection from the biggest face: each pick the least like the rest.
    chosen = [max(range(len(candidates)), key=lambda i: candidates[i].face_px)]
    while len(chosen) < min(MAX_LOOKS, len(candidates)):
        nearest = spread[:, chosen].min(axis=1)
        nearest[chosen] = -1.0
        chosen.append(int(nearest.argmax()))
    return [candidates[i] for i in sorted(chosen, key=lambda i: candidates[i].t)]
