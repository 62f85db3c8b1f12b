"""The pre-roll buffer: keeps the last seconds of compressed packets so a clip shows the arrival.

It holds packets, not decoded frames: seconds of H.264 cost megabytes. Packets
are kept in whole GOPs (a keyframe and what depends on it), so whatever the
buffer hands out starts at a keyframe and decodes.
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
        # buffer without bound; past max_s whole GOPs are dropped anyway.
        self.max_s = max(max_s, keep_s)
        self._gops: deque[list[Packet]] = deque()
        self._lock = threading.Lock()

    def push(self, packet: Packet) -> None:
        """Append a packet and drop the GOPs no longer needed."""
        with self._lock:
            gops = self._gops
            if packet.keyframe:
                gops.append([packet])
            elif gops:
                gops[-1].append(packet)
            else:
                return  # no keyframe yet: nothing decodable to keep
            newest = packet.t
            # The oldest GOP can go once the next one alone starts early enough.
            while len(gops) > 1 and (
                gops[1][0].t <= newest - self.keep_s or newest - gops[0][0].t > self.max_s
            ):
                gops.popleft()
            if newest - gops[0][0].t > self.max_s:
                # One endless GOP (a camera that sends a single keyframe): keep nothing
                # rather than everything, until the next keyframe.
                gops.clear()

    def since(self, t: float) -> list[Packet]:
        """Packets from the last keyframe at or before `t` (or the oldest keyframe held)."""
        with self._lock:
            gops = list(self._gops)
        start = 0
        for i, gop in enumerate(gops):
            if gop[0].t <= t:
                start = i
        return [p for gop in gops[start:] for p in gop]

    def clear(self) -> None:
        """Forget everything: after a reconnect old packets do not decode with new ones."""
        with self._lock:
            self._gops.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(len(gop) for gop in self._gops)
