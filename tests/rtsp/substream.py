"""Files for a two-stream loopback camera: a file's sub-stream, and a numbered clip.

A camera's sub-stream shows the main stream's scene, smaller, frame for frame: the
same timestamps and keyframes at the same frames (what TwoStreamCamera needs to
play them in step). `two_stream_camera` is a fixture serving a clip of the media
and its 640x360 sub-stream:

    from tests.rtsp.substream import two_stream_camera  # noqa: F401 (a fixture)

    def test_x(two_stream_camera: TwoStreamCamera) -> None:
        two_stream_camera.main_url, two_stream_camera.sub_url
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import numpy as np
import pytest
from av.video.frame import PictureType

from tests.rtsp.harness import TwoStreamCamera, require_gst_rtsp

VIDEO = Path(__file__).resolve().parents[3] / "shared" / "media" / "video"
MAIN_CLIP = VIDEO / "noface_face.mp4"  # 960x540 25 fps; no face until about 4.0 s
BITS = 8  # a numbered clip's frames carry their index as 8 black or white bars


def _encoder(out: av.container.OutputContainer, width: int, height: int, rate: Fraction) -> Any:
    # Keyframes only where asked (forced-idr), no B-frames: the sub-stream's packets
    # come in the main stream's order, one a frame.
    stream = out.add_stream(
        "libx264",
        rate=rate,
        options={
            "preset": "veryfast",
            "crf": "23",
            "forced-idr": "1",
            "x264-params": "keyint=100000:min-keyint=100000:scenecut=0:bframes=0",
        },
    )
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    return stream


def substream(src: Path, dst: Path, width: int = 640, height: int = 360) -> Path:
    """Write `src`'s video scaled to width x height: the same frames, times and keyframes."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        source = inp.streams.video[0]
        stream = _encoder(out, width, height, source.average_rate or Fraction(25))
        for frame in inp.decode(source):
            small = frame.reformat(width=width, height=height, format="yuv420p")
            small.pts, small.time_base = frame.pts, frame.time_base
            small.pict_type = PictureType.I if frame.key_frame else PictureType.NONE
            for packet in stream.encode(small):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def _numbered(count: int, width: int, height: int) -> Iterator[np.ndarray]:
    for index in range(count):
        image = np.full((height, width, 3), 128, np.uint8)
        bar = width // BITS
        for bit in range(BITS):
            if index >> bit & 1:
                image[:, bit * bar : (bit + 1) * bar] = 255
            else:
                image[:, bit * bar : (bit + 1) * bar] = 0
        yield image


def numbered_clip(dst: Path, count: int, width: int, height: int, gop: int = 25) -> Path:
    """A 25 fps H.264 clip whose frame i shows i in binary (read back by `frame_number`)."""
    with av.open(str(dst), "w") as out:
        stream = _encoder(out, width, height, Fraction(25))
        for index, image in enumerate(_numbered(count, width, height)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            frame.pict_type = PictureType.I if index % gop == 0 else PictureType.NONE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def frame_number(frame: av.VideoFrame) -> int:
    """The index a numbered clip's frame shows."""
    grey = frame.to_ndarray(format="gray")
    bar = grey.shape[1] // BITS
    middle = grey[grey.shape[0] // 4 : 3 * grey.shape[0] // 4]
    # The middle of each bar: its edges blur into the next one's.
    q = bar // 4
    lit = [middle[:, b * bar + q : (b + 1) * bar - q].mean() > 128 for b in range(BITS)]
    return sum(1 << b for b, on in enumerate(lit) if on)


@pytest.fixture
def two_stream_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoStreamCamera]:
    """A camera at /main (noface_face.mp4, 960x540) and /sub (640x360), looping in step."""
    require_gst_rtsp()
    sub = substream(MAIN_CLIP, tmp_path_factory.mktemp("substream") / "sub.mp4")
    with TwoStreamCamera(MAIN_CLIP, sub) as camera:
        yield camera
