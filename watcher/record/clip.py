"""Clip files: a source's packets remuxed into fragmented MP4, never re-encoded.

Fragmented MP4 with packets flushed as written: a crash or power cut leaves a
file that plays up to its last complete fragment (one per keyframe).
"""

from __future__ import annotations

import contextlib
import logging
import os
from fractions import Fraction
from pathlib import Path

import av

from watcher.constants import MP4_OPTIONS
from watcher.source.base import Packet, StreamInfo

log = logging.getLogger(__name__)


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


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)
