"""The stream's first client, which says when each frame could first be seen."""

from __future__ import annotations

import statistics
import threading
import time

import av


class Witness(threading.Thread):
    """The stream's first client: when each packet (by stream position) reached a client."""

    def __init__(self, url: str) -> None:
        super().__init__(name="witness", daemon=True)
        self.url = url
        self.arrived: dict[int, float] = {}  # pts (90 kHz) -> wall time it came
        self.offsets: list[tuple[float, float]] = []  # (wall, wall - dts seconds)
        self.newest: tuple[int, float] | None = None  # (highest pts so far, when it came)
        self.error: str | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            with av.open(self.url, options={"rtsp_transport": "tcp"}, timeout=(10, 5)) as c:
                stream = c.streams.video[0]
                tb = stream.time_base
                assert tb is not None
                for packet in c.demux(stream):
                    now = time.time()
                    if packet.pts is not None:
                        self.arrived.setdefault(int(packet.pts), now)
                        if self.newest is None or packet.pts > self.newest[0]:
                            self.newest = (int(packet.pts), now)
                    if packet.dts is not None:
                        self.offsets.append((now, now - float(packet.dts * tb)))
                    if self._halt.is_set():
                        return
        except (av.FFmpegError, OSError) as exc:
            self.error = str(exc)

    def stop(self) -> None:
        self._halt.set()

    def packets(self) -> int:
        return len(self.arrived)

    def wall(self, position: float) -> float | None:
        """When the packet of the frame at this stream position reached the witness."""
        pts = round(position * 90000)
        if pts in self.arrived:
            return self.arrived[pts]
        near = [p for p in self.arrived if abs(p - pts) < 1800]  # half a frame at 25 fps
        return self.arrived[min(near, key=lambda p: abs(p - pts))] if near else None

    def steadiness(self) -> dict[str, float]:
        """How constant (arrival - dts) stayed: the stream ran in real time, round after round."""
        if len(self.offsets) < 100:
            return {}
        base = min(o for _, o in self.offsets)
        start, end = self.offsets[0][0], self.offsets[-1][0]
        early = [o for w, o in self.offsets if start + 5 < w < start + 35]
        late = [o for w, o in self.offsets if w > end - 30]
        return {
            "median_jitter_ms": 1000 * (statistics.median(o for _, o in self.offsets) - base),
            "drift_ms": 1000 * (statistics.median(late) - statistics.median(early))
            if early and late
            else 0.0,
        }


def witness_position(witness: Witness, wall: float) -> float:
    """The stream position that reached the witness at this wall time (from its newest pts)."""
    newest = witness.newest  # one read: the witness thread replaces it, never mutates it
    if newest is None:
        return 0.0
    pts, at = newest
    return pts / 90000 + (wall - at)
