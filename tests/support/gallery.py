"""Galleries of real photos for tests, and the real face engine shared by a session."""

from __future__ import annotations

from pathlib import Path

import cv2

from watcher.faces.engine import Box, Embeddings, FaceEngine, RGBImage


def put(folder: Path, person: str, photo: Path, name: str | None = None) -> Path:
    """Copy a real photo into the gallery as `person/name`."""
    dest = folder / person / (name or photo.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(photo.read_bytes())
    return dest


def reencode(photo: Path, dest: Path, quality: int, max_side: int | None = None) -> Path:
    """The same picture with other bytes: a JPEG at another quality (optionally smaller)."""
    bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if max_side is not None and max(bgr.shape[:2]) > max_side:
        scale = max_side / max(bgr.shape[:2])
        bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data.tobytes())
    return dest


class CountingEngine(FaceEngine):
    """The real engine, counting how often the gallery asks it to work."""

    def __init__(self) -> None:
        super().__init__()
        self.detects = 0
        self.embeds = 0

    def detect(
        self,
        image: RGBImage,
        min_face_px: int,
        regions: list[tuple[Box, int]] | None = None,
    ) -> list[Box]:
        self.detects += 1
        return super().detect(image, min_face_px, regions)

    def embed(self, rgb: RGBImage, boxes: list[Box]) -> Embeddings:
        self.embeds += 1
        return super().embed(rgb, boxes)

    @property
    def calls(self) -> int:
        return self.detects + self.embeds

    def reset(self) -> None:
        self.detects = self.embeds = 0
