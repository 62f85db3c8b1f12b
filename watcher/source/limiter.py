"""Limited decoding: only keyframes while nothing happens, every frame when something may.

Decoding every frame is most of what an idle camera costs (measured here on two
minutes of 720p with a keyframe every 2 s: 1.78 CPU-s, against 0.30 for its
keyframes alone and 0.02 to demux its packets).
While the scene is still, a camera's source decodes its keyframes only (a
picture every GOP: the motion gate still sees the scene) and watches the other
packets' sizes (source/cue.py). Every frame is decoded again from the moment
the cue fires, or analysis asks for it (motion at a keyframe, a face being
followed; an event's clip is copied from its packets, never decoded): first the
frames since the last keyframe, from the packets kept for that (the catch-up),
so analysis gets the newest picture at once and no frame it needs is lost. Back
to keyframes only as soon as neither analysis nor the cue asks (mid-GOP: the GOP's
packets stay for a catch-up).

The source (capture thread) and analysis (its own thread) share this object:
analysis moves its deadline forward (`hold`, a float assignment: atomic) or drops it
when it sees no one is there (`release`); a cue that woke decoding keeps a deadline
of its own that analysis never drops. Analysis may mark the
cue as having missed a face (`face_at_keyframe`, a flag the next cue clears), and
reads the mode and the cue's state to pace its slow lane (pipeline/pacing.py); the
source owns the mode and the counters. The cue's flags that both threads write are
set under a small lock, taken at a cue, a keyframe or a face only; a mode read a packet
late only changes how much is decoded, never what analysis is shown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

from watcher.source.cue import PacketCue

# After a cue, every frame is decoded at least this long (media seconds) even if
# analysis has not asked yet: it gets a few frames to see the motion for itself.
CUE_HOLD_S = 2.0
# While the cue is blind (a constant-bitrate camera, or one whose packets did not
# announce a person a keyframe then showed), keyframes alone watch the scene: a visitor is seen at
# the next one. Keyframes further apart than this are too seldom for that (a visit
# of a few seconds could fall between two): then every frame is decoded, until the
# cue fires on motion again and so shows it sees.
BLIND_MAX_GOP_S = 2.5
# While the cue sees, decoded keyframes (keyframes-only mode) are this far apart at the
# most (media seconds): a keyframe is left undecoded only when the next one still comes
# within it. The packets announce whoever comes (a visitor lifts them 7-9x within
# 0.1 s, source/cue.py), so a keyframe's picture is the motion gate's slow view of the
# scene (its background, its habits, someone who came without moving the packets), and
# this is the pace those are known to hold at: cameras whose keyframes come 4 s apart
# give the same events limited as full (README, "Below the decode floor"). A camera
# sending one every 1 or 2 s has one in four or one in two decoded; one every 2.5 s or
# more, every one. A blind cue, one not yet sure of the scene's level, or one that
# missed a face has every keyframe decoded. Decoding a keyframe was half of what an
# idle camera cost (measured live: 720p, a keyframe every 2 s).
SEEING_KEYFRAME_S = 4.0
# Keyframes come at a camera's clock, not exactly on the media second.
_KEY_SLACK_S = 0.1


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
    caught_up_frames: int = 0  # new frames those catch-ups decoded (the newest go on)
    cues: int = 0  # times the packet cue turned every-frame decoding on
    thinned: int = 0  # keyframes left undecoded while the cue saw (SEEING_KEYFRAME_S)


class DecodeLimiter:
    """One camera's decoding policy: asked by its source for each packet, held by analysis."""

    def __init__(self) -> None:
        self.mode = DecodingMode.KEYFRAMES
        self.cue = PacketCue()
        self.stats = DecodingStats()
        # Media times until which every frame is wanted: by analysis (its thread alone
        # writes it; in analysis time) and by a cue that woke decoding (the capture
        # thread alone writes it; in the stream's time).
        self._full_until = float("-inf")
        self._cue_until = float("-inf")
        # Analysis time minus this stream's time: 0, but for a sub-stream (a camera's
        # `detect_source`), whose frames analysis sees on the main stream's clock; its
        # reader sets it (pipeline/detect.py). The two clocks part when one reconnects.
        self.analysis_offset = 0.0
        self._last_key_t: float | None = None
        self._decoded_key_t: float | None = None  # the latest keyframe decoded
        # Since when (media time) the cue has known the scene's level and seen, unbroken.
        self._seeing_since: float | None = None
        self.gop_s: float | None = None  # the latest interval between keyframes
        self._cued_this_gop = False
        self._cued_last_gop = False
        # Media time of the latest cue (capture thread only): a release must not drop it.
        self._cue_t = float("-inf")
        # Analysis found a face at a keyframe that the packets had not announced.
        self.cue_missed = False
        # Guards the cue flags between the capture thread (a cue, a keyframe) and analysis
        # (a face at a keyframe): taken only then, never for an ordinary packet.
        self._flags = threading.Lock()

    def hold(self, until_t: float) -> None:
        """Analysis asks for every frame up to `until_t` (analysis time; never shortens
        an earlier ask but by `release`)."""
        if until_t > self._full_until:
            self._full_until = until_t

    def release(self, t: float) -> None:
        """Analysis, at its frame of media time `t`, drops its ask: no one is there. The
        cue's hold stays, and so does a cue the capture saw after `t` (analysis
        lags the capture; while every frame is decoded a cue holds nothing itself):
        every frame for CUE_HOLD_S from it, for analysis to see what moved."""
        cue_t = self._cue_t + self.analysis_offset
        self._full_until = cue_t + CUE_HOLD_S if cue_t > t else float("-inf")

    def wants_every_frame(self, t: float) -> bool:
        """Whether the packet at media time `t` (this stream's) should be decoded with all
        its predecessors."""
        analysis_t = t + self.analysis_offset
        return analysis_t <= self._full_until or t <= self._cue_until or self.blind_and_sparse

    @property
    def blind_and_sparse(self) -> bool:
        """The cue is blind and the keyframes too far apart to watch the scene alone."""
        blind = self.cue.blind or self.cue_missed
        return blind and self.gop_s is not None and self.gop_s > BLIND_MAX_GOP_S

    def face_at_keyframe(self) -> None:
        """Analysis found a face on a keyframe while only keyframes were decoded: if no
        cue announced its coming in the GOP before, the packets missed a person, and the
        cue is taken as blind until it fires. (Motion alone is not counted: a tree or a
        passing shadow moves the picture more than the packets, and costs nothing.)"""
        with self._flags:
            if not (self._cued_last_gop or self._cued_this_gop):
                self.cue_missed = True

    def keyframe_due(self, t: float) -> bool:
        """Whether the keyframe at media time `t` is decoded while only keyframes are."""
        last, since = self._decoded_key_t, self._seeing_since
        # Every packet since the last picture must have been watched against a known
        # level: a cue that learnt its level only since (a new connection, a scene that
        # was busy from the start) has not seen what came before it.
        gop = self.gop_s
        if last is None or since is None or since > last or t < last or self.cue_missed:
            return True
        if gop is None:
            return True  # when the next keyframe comes is not known yet
        # Skipped, the next picture would be the next keyframe's: too late past the pace?
        return t + gop - last > SEEING_KEYFRAME_S + _KEY_SLACK_S

    def keyframe_decoded(self, t: float) -> None:
        """The keyframe at media time `t` was decoded (the next one is due from it)."""
        self._decoded_key_t = t

    def keyframe_at(self, t: float) -> None:
        """A keyframe arrived at media time `t` (measures the keyframe interval)."""
        if self._last_key_t is not None and t > self._last_key_t:
            self.gop_s = t - self._last_key_t
        self._last_key_t = t
        with self._flags:
            self._cued_last_gop, self._cued_this_gop = self._cued_this_gop, False

    def cued(self, size: int, keyframe: bool, t: float) -> bool:
        """Feed a packet to the cue; True (and every frame held for a while) when it fired."""
        fired = self.cue.observe(size, keyframe)
        if not self.cue.seeing:
            self._seeing_since = None
        elif self._seeing_since is None:
            self._seeing_since = t
        if not fired:
            return False
        with self._flags:
            self._cued_this_gop, self.cue_missed = True, False  # it sees
        self._cue_t = t
        if self.mode is DecodingMode.KEYFRAMES:
            # It wakes decoding. While every frame is decoded, analysis sees the motion
            # for itself and holds what it needs: a cue then (someone walking out
            # lifts the packets too) would only delay the return to keyframes.
            self.stats.cues += 1
            self._cue_until = max(self._cue_until, t + CUE_HOLD_S)
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
        self._full_until = self._cue_until = float("-inf")
        self._last_key_t, self.gop_s, self._decoded_key_t = None, None, None
        self._cue_t = float("-inf")
        self._seeing_since = None
        with self._flags:
            self._cued_this_gop = self._cued_last_gop = self.cue_missed = False

    @property
    def in_use(self) -> bool:
        """A limited source feeds this limiter. USB (V4L2), MJPEG and the demo never do:
        they decode every frame whatever the mode says."""
        return self.stats.packets > 0

    @property
    def keyframes_only(self) -> bool:
        """Only keyframes are decoded now."""
        return self.in_use and self.mode is DecodingMode.KEYFRAMES

    @property
    def decoded_share(self) -> float:
        """Share of the packets seen that were decoded (1.0 before any)."""
        stats = self.stats
        return stats.decoded / stats.packets if stats.packets else 1.0
