"""Sources: camera input as compressed packets plus decoded frames."""

from watcher.source.base import Chunk, Frame, Packet, Source, SourceError, StreamInfo
from watcher.source.factory import open_source

__all__ = ["Chunk", "Frame", "Packet", "Source", "SourceError", "StreamInfo", "open_source"]
