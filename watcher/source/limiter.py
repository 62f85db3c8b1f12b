"""Limited decoding: only keyframes while nothing happens, every frame when something may.

Decoding every frame is most of what an idle camera costs (measured here on two
minutes of 720p with a keyframe every 2 s: 1.78 CPU-s, against 0.30 for its
keyframes alone and 0.02 to demux its packets).
While the scene is still, a camera's source decodes its keyframes only (a
picture every GOP: the motion gate still sees the scene) and watches the other
packets' sizes (source/cue.py). Every frame is decoded again from the moment
the cue fires, or analysis asks for it (motion at a keyframe, a face being
followed, an event being recorded): first the frames since the last keyframe,
from the packets kept for that (the catch-up), so analysis gets the newest
picture at once and no frame it needs is lost. Back to keyframes only at the
first keyframe after analysis stopped asking.

The source (capture thread) and analysis (its own thread) share this object:
analysis only moves a deadline forward (`hold`), which a float assignment does
atomically; the source owns the mode and the counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from watcher.source.cue import PacketCue

# After a cue, every frame is decoded at least this long (media seconds) even if
# analysis has not asked yet: it gets a few frames to see the motion for itself.
CUE_HOLD_S = 2.0


class DecodingMode(StrEnum):
    """What a limited source decodes now."""

    KEYFRAMES = "keyframes"
    EVERY_FRAME = "every frame"


@dataclass
class DecodingStats:
    """What a limited source did (monotonic counters, for status and benchmarks)."""

    packets: int = 0  # packets seen
    decoded: int = 0  # packets decoded (a caught-up one counts again)
    switches: int = 0  # changes of mode
    catch_ups: int = 0  # times the frames since a keyframe were decoded at once
    caught_up_frames: int = 0  # frames those catch-ups gave to analysis
    cues: int = 0  # times the packet cue turned every-frame decoding on


class DecodeLimiter:
    """One camera's decoding policy: asked by its source for each packet, held by analysis."""

    def __init__(self) -> None:
        self.mode = DecodingMode.KEYFRAMES
        self.cue = PacketCue()
        self.stats = DecodingStats()
        self._full_until = float("-inf")  # media time until which every frame is wanted

    def hold(self, until_t: float) -> None:
        """Ask for every frame up to media time `until_t` (never shortens an earlier ask)."""
        if until_t > self._full_until:
            self._full_until = until_t

    def wants_every_frame(self, t: float) -> bool:
        """Whether the packet at media time `t` should be decoded with all its predecessors."""
        return t <= self._full_until

    def cued(self, size: int, keyframe: bool, t: float) -> bool:
        """Feed a packet to the cue; True (and every frame held for a while) when it fired."""
        if not self.cue.observe(size, keyframe):
            return False
        if self.mode is DecodingMode.KEYFRAMES:
            self.stats.cues += 1
        self.hold(t + CUE_HOLD_S)
        return True

    def switch(self, mode: DecodingMode) -> None:
        """Change mode, counting the change."""
        if mode is not self.mode:
            self.mode = mode
            self.stats.switches += 1

    def reset(self) -> None:
        """A new connection: start from keyframes only, with a new scene level."""
        self.mode = DecodingMode.KEYFRAMES
        self.cue.reset()
        self._full_until = float("-inf")

    @property
    def decoded_share(self) -> float:
        """Share of the packets seen that were decoded (1.0 before any)."""
        stats = self.stats
        return stats.decoded / stats.packets if stats.packets else 1.0
