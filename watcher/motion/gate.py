"""A cheap motion gate on a small grey frame: where did the picture change?

Most of a camera's day is an empty scene. Comparing a ~120-pixel-high grey
frame against a slowly adapting background costs well under a millisecond, and
tells the face detector which regions are worth its time. Global light drift
is removed (the mean difference is subtracted) and sensor noise averages away
at this scale.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from watcher.faces.engine import Box

GreyImage = npt.NDArray[np.uint8]

_BLUR = (5, 5)
_BACKGROUND_ALPHA = 0.1  # how fast the background follows a changed scene


class MotionGate:
    """Regions of a grey frame that moved, in the frame's own pixels."""

    def __init__(self, height: int, threshold: int, min_area: float) -> None:
        self.height = height
        self.threshold = threshold
        self.min_area = min_area
        self._background: npt.NDArray[np.float32] | None = None
        self._kernel = np.ones((3, 3), np.uint8)

    def regions(self, grey: GreyImage) -> list[Box]:
        """Moving regions of a full-resolution grey frame, as (top, right, bottom, left) boxes.

        The first frame (and a frame of another size) is all motion: the scene is new.
        """
        full_h, full_w = grey.shape[:2]
        scale = self.height / full_h
        small = cv2.resize(
            grey, (max(1, round(full_w * scale)), self.height), interpolation=cv2.INTER_AREA
        )
        small = cv2.GaussianBlur(small, _BLUR, 0)
        current = small.astype(np.float32)
        background = self._background
        if background is None or background.shape != current.shape:
            self._background = current
            return [(0, full_w, full_h, 0)]
        diff = current - background
        diff -= float(diff.mean())  # light drift moves everything at once: not motion
        mask = (np.abs(diff) > self.threshold).astype(np.uint8)
        cv2.accumulateWeighted(current, background, _BACKGROUND_ALPHA)
        if not mask.any():
            return []
        mask = cv2.dilate(mask, self._kernel, iterations=2)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px = self.min_area * mask.size
        boxes: list[Box] = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < min_px:
                continue
            boxes.append(
                (
                    int(y / scale),
                    min(full_w, int((x + w) / scale) + 1),
                    min(full_h, int((y + h) / scale) + 1),
                    int(x / scale),
                )
            )
        return boxes

    def reset(self) -> None:
        """Forget the background (a new connection may show another picture)."""
        self._background = None
