"""A motion cue from compressed packets alone: the encoder already measured the change.

An H.264/H.265 encoder spends bits on what changed since the reference frames:
a still scene's P- and B-frames cost a steady amount (sensor noise, a tree), and
someone walking in makes them several times larger at once. So the sizes of the
packets say when to look, before anything is decoded (demuxing costs ~1 % of
decoding). Sizes are summed over a few frames, so the alternation of P- and
B-frames (of very different sizes) averages out, and compared with the median of
the same sums over the last seconds: the scene's own level, whatever its
resolution, bitrate or noise. Keyframes are left out: they are decoded anyway and
their size says nothing about motion.

Measured on bench/ footage (720p, crf 23, B-frames, GOP 2 s): the sums of an
empty scene (noise, light drift, a tree in the wind) stay within 1.5x of their
median for two minutes; a visitor walking in lifts them 7-9x within 0.1 s.
A constant-bitrate stream pads its packets to one size: the cue is blind there
(it says so), and the keyframes (and the motion gate on them) carry the
detection alone - or, if they come too seldom, every frame is decoded
(source/limiter.py).
"""

from __future__ import annotations

import statistics
from collections import deque

# Frames summed: about a quarter of a second at 25 fps.
WINDOW_PACKETS = 6
# The scene's level: the median sum over about the last ten seconds at 25 fps.
HISTORY_SUMS = 250
# Sums needed before the level is trusted (two seconds at 25 fps).
MIN_HISTORY = 50
# The median is recomputed every this many packets: cheap for many cameras, and
# a level that moves over seconds needs no per-frame update.
REFRESH_EVERY = 5
# A sum this many times the level is motion (empty scenes stay under 1.5x).
RISE_RATIO = 2.5
# ...and at least this many bytes a frame over it: a still scene's frames are a
# few dozen bytes, and doubling that is one macroblock, not a person.
MIN_RISE_BYTES = 48
# A constant-bitrate camera pads its frames to the rate: the sums sit at a ceiling,
# the median is (within this factor) the largest, and no motion can lift them
# (measured on bench/ CBR footage: median = 95th percentile = maximum; variable-rate
# footage, empty or not: the maximum is 1.2x the median and more).
BLIND_CEILING = 1.02


class PacketCue:
    """Watches one stream's packet sizes; `observe` says when they jump."""

    def __init__(self) -> None:
        self._window: deque[int] = deque(maxlen=WINDOW_PACKETS)
        self._sums: deque[int] = deque(maxlen=HISTORY_SUMS)
        self._level: float | None = None
        self._since_refresh = 0
        self.fired = 0  # how many packets fired the cue
        # The packets' sizes cannot follow motion (constant bitrate): the cue is blind.
        self.blind = False

    def observe(self, size: int, keyframe: bool) -> bool:
        """Take one packet's size; True when its frames changed far more than the scene does."""
        if keyframe or size <= 0:
            return False
        window = self._window
        window.append(size)
        if len(window) < WINDOW_PACKETS:
            return False
        total = sum(window)
        level = self._level
        self._sums.append(total)
        self._since_refresh += 1
        if self._since_refresh >= REFRESH_EVERY and len(self._sums) >= MIN_HISTORY:
            self._level = float(statistics.median(self._sums))
            self.blind = max(self._sums) <= BLIND_CEILING * self._level
            self._since_refresh = 0
        if level is None:
            return False
        rise = total > RISE_RATIO * level and total - level > MIN_RISE_BYTES * WINDOW_PACKETS
        if rise:
            self.fired += 1
        return rise

    @property
    def seeing(self) -> bool:
        """The cue knows the scene's level and its packets can follow motion."""
        return self._level is not None and not self.blind

    def reset(self) -> None:
        """Forget the scene's level (a new connection may show another scene)."""
        self._window.clear()
        self._sums.clear()
        self._level = None
        self._since_refresh = 0
        self.blind = False
