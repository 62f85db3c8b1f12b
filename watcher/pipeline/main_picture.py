"""The main stream's full-resolution picture at a moment, decoded from the pre-roll's packets.

A camera with a `detect_source` is analysed on its small sub-stream, but a face
is judged on the main stream's picture: a 640x360 face of 40 px is a 1080p face
of 120 px, and the embedding needs the pixels. The main stream's packets are in
the pre-roll buffer anyway (for the clip); the picture an analysed frame needs
is decoded from them only when a face is to be embedded, forward from where the
previous request left off within the same GOP (from its keyframe otherwise).
"""

from __future__ import annotations

import logging
from collections import deque

import av
from av.video.codeccontext import VideoCodecContext

from watcher.buffer.preroll import PrerollBuffer
from watcher.core import Box, RGBImage
from watcher.motion.gate import GreyImage
from watcher.source.base import Frame, Packet, StreamInfo
from watcher.source.pictures import luma, rgb

# A GOP starting this much after the moment asked for is not its GOP.
_LOOKAHEAD_S = 0.25
# Pictures kept from the latest decoding, to pick the nearest to the moment asked for
# (a B-frame stream hands pictures out a few packets late).
_KEPT = 8
# A moment before the earliest kept picture by more than this is decoded afresh.
_HALF_FRAME_S = 0.02

log = logging.getLogger(__name__)


class MainPictures:
    """Decodes one camera's main stream on demand, at the times analysis asks for."""

    def __init__(self, preroll: PrerollBuffer) -> None:
        self.preroll = preroll
        self._context: VideoCodecContext | None = None
        self._info: StreamInfo | None = None
        self._key: Packet | None = None  # the keyframe of the GOP being decoded
        self._fed: float = float("-inf")  # decode time of the latest packet fed
        self._pictures: deque[tuple[float, av.VideoFrame]] = deque(maxlen=_KEPT)
        self._times: dict[int, float] = {}  # pts -> media time, of the packets fed
        self.decoded = 0  # packets decoded, for status and benchmarks

    def start(self, info: StreamInfo | None) -> None:
        """A (new) connection of the main stream: a decoder for its codec and parameters."""
        self._info, self._context, self._key = info, None, None
        self._pictures.clear()
        self._times.clear()

    def at(self, t: float) -> av.VideoFrame | None:
        """The main stream's picture nearest media time `t` (None if none is buffered)."""
        packets = self.preroll.since(t)
        if not packets or packets[0].t > t + _LOOKAHEAD_S:
            return None
        context = self._decoder()
        if context is None:
            return None
        behind = bool(self._pictures) and t < self._pictures[0][0] - _HALF_FRAME_S
        if self._key is not packets[0] or behind:
            context.flush_buffers()  # another GOP (or back in time): from its keyframe
            self._key, self._fed = packets[0], float("-inf")
            self._pictures.clear()
            self._times.clear()
        for packet in packets:
            due = packet.arrival_t
            if due <= self._fed:
                continue
            if self._nearest(t) is not None:
                break  # the picture of that moment is out: later ones would push it away
            self._feed(context, packet)
            self._fed = due
        return self._closest(t)

    def _feed(self, context: VideoCodecContext, packet: Packet) -> None:
        if packet.packet.pts is not None:
            self._times[packet.packet.pts] = packet.t
        try:
            frames = context.decode(packet.packet)
        except av.FFmpegError as exc:
            log.debug("main stream packet at %.2f s does not decode: %s", packet.t, exc)
            return
        self.decoded += 1
        for frame in frames:
            if isinstance(frame, av.VideoFrame) and frame.pts is not None:
                when = self._times.pop(frame.pts, None)
                if when is not None:
                    self._pictures.append((when, frame))

    def _nearest(self, t: float) -> av.VideoFrame | None:
        """The kept picture nearest `t`, once one is at or after it (else more may come)."""
        if not self._pictures or self._pictures[-1][0] < t:
            return None
        return self._closest(t)

    def _closest(self, t: float) -> av.VideoFrame | None:
        """The kept picture nearest `t`, if any is kept."""
        if not self._pictures:
            return None
        return min(self._pictures, key=lambda item: abs(item[0] - t))[1]

    def _decoder(self) -> VideoCodecContext | None:
        """The decoder for the current connection's codec, made at its first use."""
        if self._context is None and self._info is not None:
            template = self._info.template
            name = self._info.codec
            try:
                context = av.CodecContext.create(name, "r")
                assert isinstance(context, VideoCodecContext)
                if template is not None and template.codec_context.extradata:
                    context.extradata = template.codec_context.extradata
                context.thread_type = "NONE"
                self._context = context
            except (av.FFmpegError, ValueError) as exc:
                log.warning("cannot decode the main stream (%s): %s", name, exc)
        return self._context


def scaled(box: Box, scale: float) -> Box:
    """A box in another picture's pixels (the main stream's, for a detect_source's box)."""
    if scale == 1.0:
        return box
    top, right, bottom, left = box
    return Box(round(top * scale), round(right * scale), round(bottom * scale), round(left * scale))


def embedding_picture(
    main: MainPictures | None, frame: Frame, grey: GreyImage
) -> tuple[RGBImage, GreyImage, float]:
    """The picture faces are embedded from, its grey, and the scale from `frame`'s pixels:
    the main stream's at this moment for a camera with a detect_source, else `frame`'s."""
    if main is not None:
        picture = main.at(frame.t)
        if picture is not None and picture.width > 0 and frame.image.width > 0:
            return rgb(picture), luma(picture), picture.width / frame.image.width
        log.debug("no main-stream picture at %.2f s: the sub-stream's is used", frame.t)
    return rgb(frame.image), grey, 1.0
