"""An RTSP camera of the soak: the tests' GStreamer server looping a file, and its witness.

The witness is a plain PyAV client that stays connected (its read timeout outlasts any
freeze) and notes when each packet reaches it. It keeps the shared stream running while
watcher comes and goes, and it tells which moment of the file reached the loopback at
which wall time: on each connection the first keyframe it decodes is matched, picture
for picture, to a keyframe of the file (remuxed packets decode to identical pictures),
which ties the connection's timestamps to the file. That holds whoever joined first.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import av

from bench.chaos.footage import Thumb, match, thumb
from tests.rtsp.harness import RtspServer
from tests.rtsp.hevc import HevcRtspServer

WITNESS_TIMEOUT = (10.0, 60.0)  # open, read: a 40 s freeze must not drop the witness


@dataclass
class Session:
    """One connection of the witness: packets as (stream position s, wall time)."""

    opened: float
    base: float | None = None  # file time = (position + base) mod period
    match_diff: float | None = None
    packets: list[tuple[float, float]] = field(default_factory=list)
    closed: float | None = None
    error: str | None = None


class Witness(threading.Thread):
    def __init__(self, url: str, table: list[tuple[float, Thumb]]) -> None:
        super().__init__(name="witness", daemon=True)
        self.url, self.table = url, table
        self.sessions: list[Session] = []
        self.halt = threading.Event()
        self.last_packet = 0.0

    def run(self) -> None:
        while not self.halt.is_set():
            session = Session(time.time())
            try:
                self._watch(session)
            except (av.FFmpegError, OSError) as exc:
                session.error = str(exc)
            finally:
                session.closed = time.time()
                if session.packets:
                    self.sessions.append(session)
            self.halt.wait(0.2)

    def _watch(self, session: Session) -> None:
        options = {"rtsp_transport": "tcp"}
        with av.open(self.url, options=options, timeout=WITNESS_TIMEOUT) as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            assert tb is not None
            decoder = stream.codec_context
            for packet in container.demux(stream):
                now = time.time()
                if self.halt.is_set():
                    return
                if packet.pts is None:
                    continue
                position = float(packet.pts * tb)
                session.packets.append((position, now))
                self.last_packet = now
                if session.base is None and len(session.packets) < 200:
                    for frame in decoder.decode(packet):
                        if frame.key_frame and frame.pts is not None:
                            t, diff = match(thumb(frame), self.table)
                            session.base = t - float(frame.pts * tb)
                            session.match_diff = diff
                            break


class RtspCamera:
    """One looping RTSP server on a fixed port, its witness, and its faults."""

    def __init__(self, name: str, kind: str, file: Path, table: list[tuple[float, Thumb]]):
        self.name, self.kind, self.file = name, kind, file
        server_type = HevcRtspServer if kind == "hevc" else RtspServer
        self.server = server_type(file, loop=True)
        self.witness = Witness(self.server.url, table)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()
        self.witness.start()
        deadline = time.monotonic() + 30
        while not self.witness.sessions and time.monotonic() < deadline:
            if self.witness.last_packet:
                return
            time.sleep(0.1)

    def freeze(self) -> None:
        self.server.freeze()

    def resume(self) -> None:
        self.server.resume()

    def kill(self) -> None:
        self.server.kill()

    def restart(self) -> None:
        self.server.start()

    def close(self) -> None:
        self.witness.halt.set()
        self.server.kill()
        self.witness.join(15)
        self.server.close_log()
