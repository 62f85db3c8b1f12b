"""Clip files: a source's packets remuxed into fragmented MP4, never re-encoded.

Fragmented MP4 with packets flushed as written: a crash or power cut leaves a
file that plays up to its last complete fragment (one per keyframe).

H.265 clips carry the sample entry `hvc1` (parameter sets in the hvcC box), the
one Safari and Apple's players accept; FFmpeg's default `hev1` they refuse.
"""

from __future__ import annotations

import contextlib
import logging
import os
from fractions import Fraction
from pathlib import Path
from typing import Final

import av

from watcher.constants import MP4_OPTIONS
from watcher.source.base import Packet, StreamInfo

log = logging.getLogger(__name__)

# The MP4 sample entry per codec where FFmpeg's default is not the one every player takes.
MP4_TAGS: Final = {"hevc": "hvc1"}
# NAL unit types of the parameter sets (H.264: SPS, PPS; H.265: VPS, SPS, PPS).
_PARAMETER_SETS: Final = {"h264": frozenset({7, 8}), "hevc": frozenset({32, 33, 34})}
_START_CODE: Final = b"\x00\x00\x01"


class ClipError(OSError):
    """A clip could not be opened or written; the message is one line."""


class ClipWriter:
    """Writes packets, rebased so the clip starts at zero, into one MP4 file."""

    def __init__(self, path: Path, info: StreamInfo) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._out = av.open(str(path), mode="w", format="mp4", options=dict(MP4_OPTIONS))
        except (OSError, av.FFmpegError) as exc:
            raise ClipError(f"{path}: cannot write clip: {_reason(exc)}") from None
        rate = Fraction(info.fps).limit_denominator(1001) if info.fps > 0 else None
        self._stream: av.stream.Stream
        try:
            if info.template is not None:
                self._stream = self._out.add_stream_from_template(info.template)
            else:
                # Our own encoder's packets carry SPS/PPS in-band; the muxer takes them.
                self._stream = self._out.add_mux_stream(
                    info.codec, rate=rate, width=info.width, height=info.height
                )
        except (OSError, ValueError, av.FFmpegError) as exc:
            with contextlib.suppress(OSError, av.FFmpegError):
                self._out.close()
            raise ClipError(f"{path}: cannot set up the clip: {_reason(exc)}") from None
        self._codec = info.codec
        tag = MP4_TAGS.get(info.codec)
        # A copied stream (a camera's H.265) has a codec context; our own encoder's
        # H.264 stream has none and needs no other tag. The header is written with the
        # first packet, so the tag set here is the one muxed, and FFmpeg then marks the
        # hvcC's parameter-set arrays complete.
        if tag is not None and self._stream.codec_context is not None:
            self._stream.codec_context.codec_tag = tag
        self._offset: int | None = None  # first packet's dts, in its time base
        self._time_base = Fraction(1, 90000)  # replaced by the first packet's
        self._good_size = 0  # bytes of the file known to end on a complete fragment
        self.first_t: float | None = None
        self.last_t: float | None = None
        self._last_dts: int | None = None  # in the clip's time base, from zero
        self.packets = 0
        self.dropped = 0  # packets whose times no MP4 can hold
        self._closed = False

    def write(self, packet: Packet) -> None:
        """Append one packet; the first one must be a keyframe."""
        src = packet.packet
        if self._offset is None:
            if not packet.keyframe:
                return  # cannot start mid-GOP; wait for a keyframe
            self._time_base = src.time_base or Fraction(1, 90000)
            if self.packets == 0:  # the header (and its hvcC / avcC) is not written yet
                self._parameter_sets_from(bytes(src))
            base = src.dts if src.dts is not None else src.pts
            self._offset = base or 0
            self.first_t = packet.t
        pts = None if src.pts is None else src.pts - self._offset
        dts = None if src.dts is None else src.dts - self._offset
        last = self._last_dts
        if dts is None or (last is not None and dts <= last):
            # A packet without a DTS, or one going back: the muxer refuses it, and
            # that would end the clip as a full disk does. The next free tick
            # keeps the decoding order the muxer needs.
            dts = last + 1 if last is not None else (pts if pts is not None else 0)
        if pts is None:
            pts = dts
        if pts < dts:
            # Shown before it can be decoded: no MP4 can hold it. One lost picture
            # (the decoder conceals it) rather than the rest of the clip.
            self.dropped += 1
            if self.dropped == 1:
                log.warning("%s: a packet with impossible times dropped", self.path)
            if self._last_dts is None:  # the keyframe to start with: wait for the next
                self._offset, self.first_t = None, None
            return
        # A fresh packet: the pre-roll buffer may hand the same packet to another
        # clip later, and muxing rescales timestamps in place.
        out = av.Packet(bytes(src))
        out.time_base = self._time_base
        out.pts, out.dts = pts, dts
        out.duration = src.duration
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        try:
            self._out.mux(out)
        except (OSError, av.FFmpegError) as exc:
            self._cut_to_last_fragment()
            raise ClipError(f"{self.path}: write failed: {_reason(exc)}") from None
        if packet.keyframe:
            # Muxing a keyframe flushed the fragment before it: the file is whole up to here.
            self._good_size = self._size()
        self._last_dts = dts
        self.packets += 1
        self.last_t = packet.t if self.last_t is None else max(self.last_t, packet.t)

    def _parameter_sets_from(self, keyframe: bytes) -> None:
        """Give the stream the keyframe's parameter sets when the source gave none.

        A camera whose SDP names no parameter sets sends them in-band only; a
        fragmented MP4 writes its header (hvcC / avcC) before the first packet, and
        without them there no player opens the file.
        """
        context = self._stream.codec_context
        if context is None:
            return  # our own encoder's stream: the muxer takes its in-band SPS/PPS
        if context.extradata_size or not keyframe.startswith((_START_CODE, b"\x00" + _START_CODE)):
            return  # already known, or length-prefixed packets (an MP4 file's: it had them)
        sets = parameter_sets(keyframe, self._codec)
        if sets:
            context.extradata = sets

    @property
    def duration_s(self) -> float:
        """Seconds of media written so far."""
        if self.first_t is None or self.last_t is None:
            return 0.0
        return self.last_t - self.first_t

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return self._good_size

    def _cut_to_last_fragment(self) -> None:
        """After a failed write (a full disk): drop the half-written fragment so the file plays."""
        # The muxer's own last words fail on a full disk too.
        with contextlib.suppress(OSError, av.FFmpegError):
            self._out.close()
        self._closed = True
        try:
            os.truncate(self.path, self._good_size)
        except OSError as exc:
            log.error("%s: cannot cut the broken tail: %s", self.path, exc.strerror)

    def close(self) -> None:
        """Finish the file; errors are logged, the fragments already written stay playable."""
        if self._closed:
            return
        self._closed = True
        try:
            self._out.close()
        except (OSError, av.FFmpegError) as exc:
            log.error("%s: closing clip failed: %s", self.path, _reason(exc))


def parameter_sets(annexb: bytes, codec: str) -> bytes:
    """The parameter-set NAL units of an Annex B access unit, each after a start code."""
    types = _PARAMETER_SETS.get(codec)
    if types is None:
        return b""
    found: list[bytes] = []
    for unit in annexb.split(_START_CODE)[1:]:
        unit = unit.rstrip(b"\x00")  # a 4-byte start code's leading zero, or trailing zeros
        if not unit:
            continue
        kind = unit[0] & 0x1F if codec == "h264" else (unit[0] >> 1) & 0x3F
        if kind in types and unit not in found:  # a camera may repeat them in one frame
            found.append(unit)
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in found)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)
