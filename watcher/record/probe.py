"""Probe and repair clips left by a crash: their readable length, playability, a torn tail.

Clips are fragmented MP4 (ftyp, moov, then a moof+mdat pair per keyframe). A
crash or power cut can tear the last fragment; FFmpeg then cannot open the
file when the tear is inside a moof box. Here the torn tail is skipped by
reading only up to the last complete box, and a repair remuxes the readable
packets into a fresh file that replaces the old one atomically.
"""

from __future__ import annotations

import io
import logging
import os
import struct
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Final

import av
from av.container import InputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from watcher.constants import MP4_OPTIONS
from watcher.record.clip import MP4_TAGS

log = logging.getLogger("watcher.record")

# Top-level MP4 boxes a clip may hold; anything else means garbage (e.g. zeroed blocks).
_BOXES: Final = frozenset(
    {b"ftyp", b"moov", b"moof", b"mdat", b"mfra", b"sidx", b"styp", b"free", b"skip", b"uuid"}
)
_MEDIA_ENDS: Final = frozenset({b"mdat", b"moov"})  # a readable prefix ends after one of these
_HEADER = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")
_MIN_PLAYABLE_PACKETS: Final = 600  # is_playable looks this far for a first frame


class ClipUnreadable(OSError):
    """Not even the start of the clip can be read."""


def _box_ends(path: Path) -> tuple[int, int, int]:
    """The end of the last complete media box, of the last complete box, and the file size."""
    media_end = end = 0
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        while end + _HEADER.size <= size:
            f.seek(end)
            box_size, kind = _HEADER.unpack(f.read(_HEADER.size))
            header = _HEADER.size
            if box_size == 1:  # 64-bit size follows the type
                raw = f.read(_LARGE.size)
                if len(raw) < _LARGE.size:
                    break
                (box_size,) = _LARGE.unpack(raw)
                header += _LARGE.size
            if kind not in _BOXES or box_size < header or end + box_size > size:
                break  # torn or garbage: the readable part ends before it
            end += box_size
            if kind in _MEDIA_ENDS:
                media_end = end
    return media_end, end, size


def readable_size(path: Path) -> int:
    """Bytes from the start of the file to the end of its last complete media box."""
    return _box_ends(path)[0]


class _Prefix(io.RawIOBase):
    """A read-only view of the first `limit` bytes of a file."""

    def __init__(self, f: BinaryIO, limit: int) -> None:
        super().__init__()
        self._f = f
        self._limit = limit
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        left = self._limit - self._pos
        n = left if size is None or size < 0 else min(size, left)
        if n <= 0:
            return b""
        self._f.seek(self._pos)
        data = self._f.read(n)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._limit}[whence]
        self._pos = max(0, min(self._limit, base + offset))
        return self._pos

    def tell(self) -> int:
        return self._pos


def _open_prefix(path: Path, error: BaseException) -> tuple[InputContainer, BinaryIO]:
    """Open only the complete boxes of a clip whose torn tail FFmpeg refuses."""
    if not path.is_file():
        raise ClipUnreadable(f"{path}: no such clip")
    limit = readable_size(path)
    if limit == 0:
        raise ClipUnreadable(f"{path}: no readable header ({error})")
    raw = path.open("rb")
    try:
        return av.open(_Prefix(raw, limit), mode="r", format="mp4"), raw
    except (OSError, av.FFmpegError) as exc:
        raw.close()
        raise ClipUnreadable(f"{path}: unreadable ({exc})") from None


@contextmanager
def _open(path: Path) -> Iterator[InputContainer]:
    """Open a clip, falling back to its complete boxes when FFmpeg refuses the whole file."""
    raw: BinaryIO | None = None
    try:
        container = av.open(str(path))
    except (OSError, av.FFmpegError) as exc:
        container, raw = _open_prefix(path, exc)
    try:
        yield container
    finally:
        container.close()
        if raw is not None:
            raw.close()


def _video(container: InputContainer, path: Path) -> VideoStream:
    if not container.streams.video:
        raise ClipUnreadable(f"{path}: no video stream")
    return container.streams.video[0]


@dataclass
class _Scan:
    """Demuxes whole packets from the first keyframe on, noting whether any were lost."""

    container: InputContainer
    stream: VideoStream
    damaged: bool = False

    def packets(self) -> Iterator[Packet]:
        """Yield complete packets; a torn or unreadable tail ends the scan."""
        started = False
        try:
            for packet in self.container.demux(self.stream):
                if packet.dts is None or packet.size == 0:
                    continue  # the demuxer's final flush packet
                if packet.is_corrupt:
                    self.damaged = True
                    continue
                started = started or packet.is_keyframe
                if started:
                    yield packet
        except (OSError, av.FFmpegError):
            self.damaged = True


def _frame_times(stream: VideoStream, packets: list[Packet]) -> list[float]:
    """Decode packets (a GOP) with a fresh decoder; the media times of the frames it gives."""
    decoder = av.CodecContext.create(stream.codec_context.name, "r")
    if stream.codec_context.extradata:
        decoder.extradata = stream.codec_context.extradata
    time_base = stream.time_base or Fraction(1, 90000)
    times: list[float] = []
    for packet in [*packets, None]:
        try:
            frames = decoder.decode(packet)  # type: ignore[attr-defined]
        except (OSError, av.FFmpegError):
            continue
        times.extend(float(f.pts * time_base) for f in frames if f.pts is not None)
    return times


def last_frame_seconds(path: Path) -> float | None:
    """Media seconds from the clip's first to its last decodable frame; None if none decodes."""
    try:
        with _open(path) as container:
            stream = _video(container, path)
            first: list[Packet] | None = None
            tail: deque[list[Packet]] = deque(maxlen=2)  # the last two GOPs
            for packet in _Scan(container, stream).packets():
                if packet.is_keyframe:
                    tail.append([])
                    if first is None:
                        first = tail[-1]
                tail[-1].append(packet)
            if first is None:
                return None
            start = _frame_times(stream, first)
            if not start:
                return None
            for gop in reversed(tail):  # a GOP whose keyframe is damaged gives nothing
                times = start if gop is first else _frame_times(stream, gop)
                if times:
                    return max(0.0, max(times) - min(start))
            return 0.0
    except (OSError, av.FFmpegError) as exc:
        log.debug("%s: not measured: %s", path, exc)
        return None


def is_playable(path: Path) -> bool:
    """Whether FFmpeg opens the file as it is and decodes its first frame."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return False
            scan = _Scan(container, container.streams.video[0])
            gop: list[Packet] = []
            for packet in scan.packets():
                if (packet.is_keyframe and gop) or len(gop) >= _MIN_PLAYABLE_PACKETS:
                    break
                gop.append(packet)
            return bool(gop) and bool(_frame_times(scan.stream, gop))
    except (OSError, av.FFmpegError):
        return False


def _damaged(path: Path) -> bool:
    """Whether the file has a torn tail, or packets FFmpeg cannot read whole."""
    try:
        _, end, size = _box_ends(path)
        if end < size:
            return True
        with av.open(str(path)) as container:
            if not container.streams.video:
                return True
            scan = _Scan(container, container.streams.video[0])
            for _ in scan.packets():
                pass
            return scan.damaged
    except (OSError, av.FFmpegError):
        return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def repair_clip(path: Path) -> bool:
    """Rewrite a torn clip from its readable packets (atomic replace); True if rewritten."""
    if not path.is_file() or not _damaged(path):
        return False
    tmp = path.with_name(f".{path.name}.repair")
    try:
        with _open(path) as source:
            stream = _video(source, path)
            written = 0
            with av.open(str(tmp), mode="w", format="mp4", options=dict(MP4_OPTIONS)) as out:
                target = out.add_stream_from_template(stream)
                tag = MP4_TAGS.get(stream.codec_context.name)
                if tag is not None:  # Safari plays H.265 in MP4 only as hvc1
                    target.codec_context.codec_tag = tag
                for packet in _Scan(source, stream).packets():
                    packet.stream = target
                    out.mux(packet)
                    written += 1
        if written == 0:
            raise ClipUnreadable(f"{path}: no whole packet to keep")
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    except (OSError, av.FFmpegError) as exc:
        log.warning("%s: clip not repaired: %s", path, exc)
        with suppress(OSError):
            tmp.unlink()
        return False
    log.info("%s: torn clip repaired (%d packets kept)", path, written)
    return True
