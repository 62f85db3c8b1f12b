"""Encode raw pictures (USB cameras, the demo) to H.264 once, at the source.

Then the pre-roll buffer holds compressed packets for every source and a clip
is always a remux. The encoder keeps SPS/PPS in-band before each keyframe, so
a clip can start at any keyframe and the MP4 muxer takes them from there.
"""

from __future__ import annotations

from fractions import Fraction

import av

from watcher.constants import RAW_ENCODER, RAW_ENCODER_OPTIONS, RAW_KEYFRAME_INTERVAL_S
from watcher.source.base import Packet

_PIX_FMT = "yuv420p"


class RawEncoder:
    """A low-latency libx264 encoder with a keyframe every RAW_KEYFRAME_INTERVAL_S."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        # H.264 in yuv420p needs even dimensions.
        self.width = width - width % 2
        self.height = height - height % 2
        self.fps = fps
        self.time_base = Fraction(1, 1000)  # milliseconds: frames keep their own times
        ctx = av.CodecContext.create(RAW_ENCODER, "w")
        ctx.width = self.width
        ctx.height = self.height
        ctx.pix_fmt = _PIX_FMT
        ctx.time_base = self.time_base
        ctx.framerate = Fraction(fps).limit_denominator(1001)
        ctx.gop_size = max(1, round(fps * RAW_KEYFRAME_INTERVAL_S))
        ctx.options = dict(RAW_ENCODER_OPTIONS)
        ctx.open()
        self._ctx = ctx

    def encode(self, frame: av.VideoFrame, t: float) -> list[Packet]:
        """Encode one picture shown at `t` seconds; return the packets it produced."""
        if (
            frame.width != self.width
            or frame.height != self.height
            or frame.format.name != _PIX_FMT
        ):
            frame = frame.reformat(width=self.width, height=self.height, format=_PIX_FMT)
        else:
            frame = av.VideoFrame.from_ndarray(frame.to_ndarray(), format=_PIX_FMT)
        frame.pts = round(t / self.time_base)
        frame.time_base = self.time_base
        return [self._wrap(p) for p in self._ctx.encode(frame)]

    def _wrap(self, packet: av.Packet) -> Packet:
        t = float(packet.pts * self.time_base) if packet.pts is not None else 0.0
        return Packet(packet, t, bool(packet.is_keyframe))
