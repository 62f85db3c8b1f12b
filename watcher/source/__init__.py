"""Sources: camera input as compressed packets plus decoded frames."""

from watcher.source.base import Chunk, Frame, Packet, Source, SourceError, StreamInfo
from watcher.source.factory import open_detect_source, open_source

__all__ = [
    "Chunk",
    "Frame",
    "Packet",
    "Source",
    "SourceError",
    "StreamInfo",
    "open_detect_source",
    "open_source",
]
