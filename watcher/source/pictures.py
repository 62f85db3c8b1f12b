"""Decoded frames as NumPy pictures, without needless copies or conversions."""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt

# Planar YUV formats whose first plane is the 8-bit luma: grey for free.
_YUV8 = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"})


def luma(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """The frame's grey picture (H, W): a view of the Y plane when it has one."""
    if frame.format.name in _YUV8:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8)
        return rows.reshape(frame.height, plane.line_size)[:, : frame.width]
    return np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)


def rgb(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """The frame as contiguous RGB (H, W, 3), as dlib wants it."""
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
