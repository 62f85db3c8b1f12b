"""What every source yields: compressed packets (to record) and decoded frames (to analyse)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import av


class SourceError(RuntimeError):
    """A source could not be opened or read; the message is one line, without secrets."""


@dataclass(frozen=True)
class StreamInfo:
    """What a recorder needs to write a source's packets into a clip."""

    codec: str
    width: int
    height: int
    fps: float
    # The demuxed stream whose codec parameters a clip copies; None when the
    # packets carry their parameter sets in-band (our own H.264 encoder).
    template: av.video.stream.VideoStream | None = None


@dataclass(frozen=True)
class Packet:
    """One compressed packet and its presentation time in seconds from the source's start."""

    packet: av.Packet
    t: float
    keyframe: bool
    # When it is due for decoding (its DTS), in the same seconds: a reference frame
    # of a B-frame stream arrives before its presentation time, not after.
    decode_t: float | None = None

    @property
    def arrival_t(self) -> float:
        """The media time this packet belongs to as it arrives (decode time, else presentation)."""
        return self.t if self.decode_t is None else self.decode_t


@dataclass(frozen=True)
class Frame:
    """One decoded picture and its time in seconds from the source's start."""

    image: av.VideoFrame
    t: float
    # Decoded at once with the frames since a keyframe (source/limiter.py): history
    # for analysis to skip, not a frame it had no time for.
    caught_up: bool = False


@dataclass
class Chunk:
    """What one read step produced: packets to buffer or record, frames to analyse."""

    packets: list[Packet] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)


class Source(ABC):
    """A camera or file: open it, then iterate chunks until it ends or fails."""

    #: True when reading sleeps to play at the media's own rate (files, demo).
    paced: bool = True

    @abstractmethod
    def open(self) -> StreamInfo:
        """Connect or open; raise SourceError with a one-line reason."""

    @abstractmethod
    def chunks(self) -> Iterator[Chunk]:
        """Yield chunks until the stream ends; raise SourceError on failure."""

    @abstractmethod
    def close(self) -> None:
        """Release the device, file or connection."""

    @property
    def description(self) -> str:
        """A human name for logs, never containing a password."""
        return type(self).__name__


class Pacer:
    """Sleeps so that media time advances no faster than wall time (file playback, demo)."""

    def __init__(self) -> None:
        self._origin: float | None = None

    def wait(self, t: float) -> None:
        """Block until media time `t` is due."""
        now = time.monotonic()
        if self._origin is None:
            self._origin = now - t
        delay = self._origin + t - now
        if delay > 0:
            time.sleep(delay)
