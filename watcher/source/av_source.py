"""Sources read through FFmpeg (PyAV): RTSP and HTTP streams, V4L2 devices, video files."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import av

from watcher.config import mask_url
from watcher.source.base import Chunk, Frame, Pacer, Packet, Source, SourceError, StreamInfo
from watcher.source.encoder import RawEncoder

# Codecs a clip can carry as they are (MP4, plays in browsers): remuxed, never re-encoded.
REMUX_CODECS = frozenset({"h264", "hevc"})
DEFAULT_OPEN_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 5.0
MAX_BROKEN_PACKETS = 50  # two seconds of garbage at 25 fps

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
    ) -> None:
        self.url = url
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
        self._step = 0.04  # one frame, for continuing after a reopen

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
        if not container.streams.video:
            container.close()
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
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        self._step = 1.0 / fps if fps > 0 else self._step
        self._offset = None
        self._encoder = None
        codec = stream.codec_context.name
        if codec in REMUX_CODECS:
            return StreamInfo(codec, stream.width, stream.height, fps, template=stream)
        self._encoder = RawEncoder(stream.width, stream.height, fps)
        return StreamInfo("h264", self._encoder.width, self._encoder.height, fps)

    def chunks(self) -> Iterator[Chunk]:
        """Demux, decode, and (for raw inputs) encode, one packet at a time."""
        if self._container is None or self._stream is None:
            raise SourceError("source not open")
        stream, pacer = self._stream, Pacer() if self.paced else None
        try:
            untimed: av.Packet | None = None
            broken = 0  # consecutive packets that did not decode
            for packet in self._container.demux(stream):
                chunk = Chunk()
                try:
                    frames = packet.decode()
                    broken = 0
                except av.InvalidDataError:
                    # One broken packet (a truncated MJPEG frame, a lost RTP packet)
                    # is skipped; a stream of nothing but garbage is a lost camera.
                    broken += 1
                    if broken >= MAX_BROKEN_PACKETS:
                        raise SourceError(f"{self.description}: undecodable data") from None
                    frames = []
                if packet.size and self._encoder is None:
                    if packet.pts is None and packet.dts is None:
                        # RTSP's first packet (a keyframe) comes without a time:
                        # it gets its successor's, one frame earlier.
                        untimed = packet
                        continue
                    if untimed is not None:
                        chunk.packets.append(self._timed_before(untimed, packet))
                        untimed = None
                    t = self._seconds(packet.pts if packet.pts is not None else packet.dts)
                    decode_t = None if packet.dts is None else self._seconds(packet.dts)
                    chunk.packets.append(Packet(packet, t, bool(packet.is_keyframe), decode_t))
                for image in frames:
                    ft = self._seconds(image.pts)
                    if pacer is not None:
                        pacer.wait(ft)
                    chunk.frames.append(Frame(image, ft))
                    if self._encoder is not None:
                        chunk.packets.extend(self._encoder.encode(image, ft))
                if chunk.packets or chunk.frames:
                    yield chunk
        except av.ExitError:
            # PyAV's read timeout interrupts FFmpeg ("Immediate exit requested").
            silence = self._timeouts[1]
            raise SourceError(f"{self.description}: no data for {silence:g} s") from None
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"{self.description}: {_reason(exc)}") from None

    def _timed_before(self, untimed: av.Packet, nxt: av.Packet) -> Packet:
        """Give a packet without timestamps the time one frame before `nxt`."""
        tb = nxt.time_base
        step = nxt.duration or (round(self._step / tb) if tb else 1)
        base = nxt.dts if nxt.dts is not None else nxt.pts
        assert base is not None
        untimed.pts = untimed.dts = base - step
        untimed.time_base = tb
        return Packet(untimed, self._seconds(untimed.pts), bool(untimed.is_keyframe))

    def _seconds(self, value: int | None) -> float:
        """Media time of a stream timestamp: the file's own on first open, then continued."""
        tb = self._stream.time_base if self._stream is not None else None
        if value is None or tb is None:
            return self._last_t or 0.0
        raw = float(value * tb)
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


def _reason(exc: BaseException) -> str:
    """A short, password-free reason for an FFmpeg or OS error."""
    text = getattr(exc, "strerror", None) or str(exc)
    return mask_url(str(text))
