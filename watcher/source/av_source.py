"""Sources read through FFmpeg (PyAV): RTSP and HTTP streams, V4L2 devices, video files."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import av

from watcher.config import mask_url
from watcher.source.base import Chunk, Frame, Pacer, Packet, Source, SourceError, StreamInfo
from watcher.source.encoder import RawEncoder
from watcher.source.limited import LimitedDecoding
from watcher.source.limiter import DecodeLimiter

# Codecs a clip can carry as they are (MP4, plays in browsers): remuxed, never re-encoded.
REMUX_CODECS = frozenset({"h264", "hevc"})
DEFAULT_OPEN_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 5.0
MAX_BROKEN_PACKETS = 50  # two seconds of garbage at 25 fps
TIMELESS_FORMATS = frozenset({"mpjpeg"})  # demuxers that invent their pictures' times
# Packets without a decoding time held at a stream's start until one has it: far more
# than any B-frame delay, yet a stream that never has DTS is not held back for long.
MAX_UNTIMED_PACKETS = 16

log = logging.getLogger(__name__)


class AVSource(Source):
    """Any input FFmpeg opens. `paced=False` reads a file as fast as the machine allows.

    Media time runs on across reopenings: after a reconnect (or a file loop) the
    first packet continues right after the last one given out, so the pipeline's
    schedules and tracks never see time go backwards.
    """

    def __init__(
        self,
        url: str,
        *,
        paced: bool = True,
        fmt: str | None = None,
        options: dict[str, str] | None = None,
        timeouts: tuple[float, float] = (DEFAULT_OPEN_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S),
        skip_nonref: bool = False,
        decode_threads: int = 1,
        limiter: DecodeLimiter | None = None,
        packets_only: bool = False,
    ) -> None:
        """`limiter`: decode only keyframes while it allows (H.264/H.265 inputs; see
        source/limiter.py); None decodes every frame. `packets_only`: decode nothing
        (a main stream recorded while a sub-stream is analysed; H.264/H.265 only)."""
        self.url = url
        self.limiter = limiter
        self.packets_only = packets_only
        self._limited: LimitedDecoding | None = None  # this connection's, when limited
        self._last_pts: int | None = None  # the latest picture given out, in stream units
        self.decoded_frames = 0  # packets decoded (over every connection)
        self._decode_threads = decode_threads
        self.paced = paced
        self._fmt = fmt
        self._options = dict(options or {})
        self._timeouts = timeouts
        self._skip_nonref = skip_nonref
        self._container: av.container.InputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._encoder: RawEncoder | None = None
        self._offset: float | None = None  # seconds added to the stream's own times
        self._last_t: float | None = None  # the latest time given out
        # Inputs whose pictures carry no times of their own are timed by their arrival.
        self._by_arrival = False
        self._epoch: float | None = None  # monotonic time of media time 0 (by arrival)
        self._step = 0.04  # one frame, for continuing after a reopen
        self._broken = 0  # consecutive packets that did not decode

    @property
    def description(self) -> str:
        """The URL or path with any password masked."""
        return mask_url(self.url)

    def open(self) -> StreamInfo:
        """Open the input and pick its first video stream."""
        try:
            # FFmpeg hands a frame out only when the next one arrives, so a frozen
            # camera is noticed after two read timeouts: ask for half of ours.
            open_s, read_s = self._timeouts
            container = av.open(
                self.url, format=self._fmt, options=self._options, timeout=(open_s, read_s / 2)
            )
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open {self.description}: {_reason(exc)}") from None
        try:
            return self._set_up(container)
        except BaseException:
            container.close()  # not left open (a socket, a device) for the next attempt
            self._container, self._stream, self._encoder = None, None, None
            raise

    def _set_up(self, container: av.container.InputContainer) -> StreamInfo:
        """Pick the first video stream and prepare its decoding (and encoding, if raw)."""
        if not container.streams.video:
            raise SourceError(f"{self.description} has no video stream")
        stream = container.streams.video[0]
        # Decoding releases the GIL either way. One thread costs the least CPU:
        # FFmpeg's frame threads pay 20-40 % more for the same frames, and hold
        # each frame back by one frame per thread.
        if self._decode_threads == 1:
            stream.thread_type = "NONE"
        else:
            stream.thread_type = "AUTO"
            stream.thread_count = self._decode_threads  # 0: FFmpeg picks
        if self._skip_nonref:
            # B-frames are never needed for analysis at a few frames a second;
            # their packets still reach the clip untouched.
            stream.codec_context.skip_frame = "NONREF"
        self._container, self._stream = container, stream
        # HTTP multipart MJPEG carries no times: FFmpeg numbers its pictures as if
        # they came at 25 fps, whatever the camera's rate (measured: a 10 fps camera
        # gave 1.2 s of media time in 3.1 s, so its events' times fell ever earlier
        # and its clips played 2.5x fast). Its pictures are timed as they arrive.
        self._by_arrival = container.format.name in TIMELESS_FORMATS
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        self._step = 1.0 / fps if fps > 0 else self._step
        self._offset = None
        self._encoder = None
        self._last_pts, self._limited = None, None
        if self.limiter is not None:
            self.limiter.reset()
            self._limited = LimitedDecoding(
                self.limiter, self._decode, stream.codec_context.flush_buffers, self.description
            )
        codec = stream.codec_context.name
        if self.packets_only and codec not in REMUX_CODECS:
            raise SourceError(
                f"{self.description} sends {codec}: a camera with a detect_source must "
                "record an H.264 or H.265 main stream"
            )
        if codec in REMUX_CODECS:
            return StreamInfo(codec, stream.width, stream.height, fps, template=_detached(stream))
        try:
            self._encoder = RawEncoder(stream.width, stream.height, fps)
        except (av.FFmpegError, ValueError) as exc:
            # libx264 refuses a picture under 2x2: a camera whose first picture is
            # broken (a part of an MJPEG stream that is no real JPEG) or empty.
            size = f"{stream.width}x{stream.height}"
            raise SourceError(
                f"cannot open {self.description}: its {size} pictures cannot be encoded: "
                f"{_reason(exc)}"
            ) from None
        return StreamInfo("h264", self._encoder.width, self._encoder.height, fps)

    def chunks(self) -> Iterator[Chunk]:
        """Demux, decode, and (for raw inputs) encode, one packet at a time."""
        if self._container is None or self._stream is None:
            raise SourceError("source not open")
        stream, pacer = self._stream, Pacer() if self.paced else None
        try:
            # RTSP's first packets come without a decoding time (the first one, a
            # keyframe, without any time): they wait here, undecoded, until one with
            # a DTS shows where they belong. A handful of packets, once per connection.
            untimed: list[av.Packet] = []
            holding = self._encoder is None  # until the stream's first packet with a DTS
            self._broken = 0
            for packet in self._container.demux(stream):
                batch = [packet]
                if holding:
                    if packet.size and packet.dts is None:
                        untimed.append(packet)
                        if len(untimed) < MAX_UNTIMED_PACKETS:
                            continue
                        # A stream that never has DTS: time them by their PTS alone.
                        self._time_untimed(untimed, None)
                        batch = []
                    elif untimed:
                        self._time_untimed(untimed, packet if packet.size else None)
                    batch, untimed, holding = [*untimed, *batch], [], False
                chunk = Chunk()
                for each in batch:
                    self._take(each, chunk, pacer)
                if chunk.packets or chunk.frames:
                    yield chunk
        except av.ExitError:
            # PyAV's read timeout interrupts FFmpeg ("Immediate exit requested").
            silence = self._timeouts[1]
            raise SourceError(f"{self.description}: no data for {silence:g} s") from None
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"{self.description}: {_reason(exc)}") from None

    def _take(self, packet: av.Packet, chunk: Chunk, pacer: Pacer | None) -> None:
        """Decode one packet into `chunk`: the packet to record (or the encoder's), its frames."""
        wrapped: Packet | None = None
        if packet.size and self._encoder is None:
            t = self._seconds(packet.pts if packet.pts is not None else packet.dts)
            decode_t = None if packet.dts is None else self._seconds(packet.dts)
            wrapped = Packet(packet, t, bool(packet.is_keyframe), decode_t)
        caught_up = 0  # of `frames`, the first ones a catch-up decoded
        if self.packets_only:
            frames: list[av.VideoFrame] = []
        elif self._limited is not None and wrapped is not None:
            if pacer is not None:
                # Pictures may not come for seconds: a file plays at its own pace all the same.
                pacer.wait(wrapped.arrival_t)
            frames = self._limited.take(packet, wrapped.keyframe, wrapped.t, self._last_pts)
            caught_up = self._limited.caught_up
        else:
            frames = self._decode(packet)
        if wrapped is not None:
            chunk.packets.append(wrapped)
        for index, image in enumerate(frames):
            if image.pts is not None:
                self._last_pts = image.pts
            ft = self._arrival_seconds() if self._by_arrival else self._seconds(image.pts)
            if pacer is not None:
                pacer.wait(ft)
            chunk.frames.append(Frame(image, ft, caught_up=index < caught_up))
            if self._encoder is not None:
                chunk.packets.extend(self._encoder.encode(image, ft))

    def _decode(self, packet: av.Packet | None) -> list[av.VideoFrame]:
        """Decode one packet (None drains the decoder); a broken one gives no picture."""
        assert self._stream is not None
        try:
            if packet is None:
                frames = list(self._stream.codec_context.decode(None))
            else:
                frames = list(packet.decode())
            self._broken = 0
        except av.InvalidDataError:
            # One broken packet (a truncated MJPEG frame, a lost RTP packet) is
            # skipped; a stream of nothing but garbage is a lost camera.
            self._broken += 1
            if self._broken >= MAX_BROKEN_PACKETS:
                raise SourceError(f"{self.description}: undecodable data") from None
            frames = []
        if packet is not None:
            self.decoded_frames += 1
            if self.limiter is not None:
                self.limiter.stats.decoded += 1
        return [f for f in frames if isinstance(f, av.VideoFrame)]

    def _time_untimed(self, untimed: list[av.Packet], nxt: av.Packet | None) -> None:
        """Give the packets without a DTS at a stream's start the times they stand for.

        They are in decoding order, one frame each, right before `nxt` (the first
        packet with a DTS; None if none came): each DTS is one frame before the next
        packet's, and never after the packet's own PTS. The first packet, a keyframe
        that may have no PTS either, is shown first: one frame before the earliest
        PTS around it. (With B-frames the packet after a keyframe is shown frames
        later, so "one frame before the next packet" would show the keyframe after
        pictures that follow it and give the muxer a DTS that goes back.)
        """
        first = untimed[0]
        tb = (nxt.time_base if nxt is not None else None) or first.time_base
        if tb is None and self._stream is not None:
            tb = self._stream.time_base
        durations = [p.duration for p in (*untimed, nxt) if p is not None and p.duration]
        step = durations[0] if durations else max(1, round(self._step / tb) if tb else 1)
        shown = [p.pts for p in (*untimed, nxt) if p is not None and p.pts is not None]
        earliest = min(shown) if shown else None
        if first.pts is None and earliest is not None:
            first.pts = earliest - step
        if nxt is not None and nxt.dts is not None:
            top = nxt.dts
        elif earliest is not None:  # the last one is decoded when the first is shown
            top = earliest + step
        else:
            top = step * (len(untimed) + 1)
        for packet in reversed(untimed):
            dts = top - step if packet.pts is None else min(top - step, packet.pts)
            packet.dts, packet.time_base, top = dts, tb, dts
            if packet.pts is None:
                packet.pts = dts

    def _arrival_seconds(self) -> float:
        """Media time of a picture timed by its arrival: seconds since the first one,
        continued across reconnects (the monotonic clock never goes back)."""
        now = time.monotonic()
        if self._epoch is None:
            self._epoch = now
        t = now - self._epoch
        if self._last_t is not None:
            t = max(t, self._last_t + 0.001)  # two pictures in one read: still in order
        self._last_t = t
        return t

    def _seconds(self, value: int | None) -> float:
        """Media time of a stream timestamp: the file's own on first open, then continued."""
        tb = self._stream.time_base if self._stream is not None else None
        if value is None or tb is None:
            return self._last_t or 0.0
        # Exactly float(value * tb), without building a Fraction for every packet.
        raw = value * tb.numerator / tb.denominator
        if self._offset is None:
            if self._last_t is None:  # first open: the stream's own times, from its start
                start = self._stream.start_time if self._stream is not None else None
                self._offset = -float(start * tb) if start else 0.0
            else:  # reopened: continue right after the last time given out
                self._offset = self._last_t + self._step - raw
        t = raw + self._offset
        self._last_t = t if self._last_t is None else max(self._last_t, t)
        return t

    @property
    def duration_s(self) -> float:
        """Length of a file in seconds (0 when unknown, e.g. a live stream)."""
        container = self._container
        if container is None or not container.duration:
            return 0.0
        return float(container.duration) / 1_000_000

    def close(self) -> None:
        """Close the input."""
        if self._container is not None:
            self._container.close()
            self._container = None


def _detached(stream: av.video.stream.VideoStream) -> av.video.stream.VideoStream:
    """The stream's codec parameters in a stream of their own, which outlives the input.

    A recorder may set up a clip from them after this connection closed (an event
    opened just before the camera dropped or the daemon stopped): the input stream's
    own parameters are freed with its container, and using them then crashed the
    process (found by a reload test, 1 run in 3). The copy lives in an output container
    that is never written, freed with the last StreamInfo that holds it.
    """
    holder = av.open(io.BytesIO(), mode="w", format="mp4")
    copy = holder.add_stream_from_template(stream)
    assert isinstance(copy, av.video.stream.VideoStream)
    return copy


def _reason(exc: BaseException) -> str:
    """A short, password-free reason for an FFmpeg or OS error."""
    text = getattr(exc, "strerror", None) or str(exc)
    return mask_url(str(text))
