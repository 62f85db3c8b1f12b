"""The pre-roll buffer: keeps the last seconds of compressed packets so a clip shows the arrival.

It holds packets, not decoded frames: seconds of H.264 cost megabytes.
"""

from __future__ import annotations

import threading
from collections import deque

from watcher.source.base import Packet


class PrerollBuffer:
    """Packets covering at least `keep_s` seconds, always starting at a keyframe."""

    def __init__(self, keep_s: float, max_s: float = 120.0) -> None:
        self.keep_s = keep_s
        # A camera with a very long keyframe interval would otherwise grow the
        # buffer without bound; past max_s we drop whole GOPs anyway.
        self.max_s = max(max_s, keep_s)
        self._packets: deque[Packet] = deque()
        self._lock = threading.Lock()

    def push(self, packet: Packet) -> None:
        """Append a packet and drop what is no longer needed."""
        with self._lock:
            self._packets.append(packet)
            self._trim(packet.t)

    def _trim(self, newest: float) -> None:
        # Drop the oldest GOP while the next keyframe still starts early
        # enough to cover keep_s (or the buffer is beyond max_s).
        packets = self._packets
        while len(packets) > 1:
            nxt = next((i for i in range(1, len(packets)) if packets[i].keyframe), None)
            if nxt is None:
                break
            covers = packets[nxt].t <= newest - self.keep_s
            too_long = newest - packets[0].t > self.max_s
            if not (covers or too_long):
                break
            for _ in range(nxt):
                packets.popleft()
        while packets and not packets[0].keyframe:
            packets.popleft()  # a clip can only begin at a keyframe

    def since(self, t: float) -> list[Packet]:
        """Packets from the last keyframe at or before `t` (or the oldest keyframe held)."""
        with self._lock:
            packets = list(self._packets)
        start = 0
        for i, p in enumerate(packets):
            if p.keyframe and p.t <= t:
                start = i
        return packets[start:]

    def clear(self) -> None:
        """Forget everything: after a reconnect old packets do not decode with new ones."""
        with self._lock:
            self._packets.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._packets)

    @property
    def span_s(self) -> float:
        """Seconds of media held, first to last packet."""
        with self._lock:
            if not self._packets:
                return 0.0
            return self._packets[-1].t - self._packets[0].t
