"""The arithmetic: CPU-seconds per second of video for one camera, and cameras per Pi.

    CPU-s per video-s = keyframes decoded x keyframe cost
                      + other frames decoded x P-frame cost
                      + searched pixels x HOG cost per pixel
                      + embeddings x embedding cost
                      + packets x the rest (watcher's own Python per packet)
    cameras           = usable cores / CPU-s per video-s

Pure functions on plain numbers, so the test can check them on hand figures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """What watcher did per second of one camera's video (from `watcher replay`)."""

    packets: float  # frames received (every one is demuxed and buffered)
    keyframes: float  # keyframes decoded
    decoded: float  # every frame decoded, keyframes included
    searched_px: float  # pixels handed to the HOG detector (after its scaling)
    embeddings: float


@dataclass(frozen=True)
class OpCosts:
    """CPU-seconds of one operation on one core of the machine estimated."""

    keyframe_s: float
    pframe_s: float
    hog_s_per_px: float
    embed_s: float
    rest_s_per_packet: float


@dataclass(frozen=True)
class Terms:
    """Each term of the sum, CPU-s per video-s (a fraction of one core)."""

    keyframes: float
    pframes: float
    hog: float
    embeddings: float
    rest: float

    @property
    def total(self) -> float:
        """CPU-s per video-s: the share of one core one camera takes."""
        return self.keyframes + self.pframes + self.hog + self.embeddings + self.rest


def per_second(totals: Counts, seconds: float) -> Counts:
    """Counts over a whole file turned into counts per second of video."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    return Counts(
        packets=totals.packets / seconds,
        keyframes=totals.keyframes / seconds,
        decoded=totals.decoded / seconds,
        searched_px=totals.searched_px / seconds,
        embeddings=totals.embeddings / seconds,
    )


def terms(counts: Counts, costs: OpCosts) -> Terms:
    """CPU-s per video-s of one camera, term by term."""
    # Decoded frames that are not keyframes: P-frames (and, in full decoding, all
    # of them); never negative, whatever rounding did to the counts.
    others = max(counts.decoded - counts.keyframes, 0.0)
    return Terms(
        keyframes=counts.keyframes * costs.keyframe_s,
        pframes=others * costs.pframe_s,
        hog=counts.searched_px * costs.hog_s_per_px,
        embeddings=counts.embeddings * costs.embed_s,
        rest=counts.packets * costs.rest_s_per_packet,
    )


def cameras(cpu_per_video_s: float, usable_cores: float) -> float:
    """How many such cameras the usable cores keep up with in real time."""
    if cpu_per_video_s <= 0:
        raise ValueError("a camera costs some CPU")
    return usable_cores / cpu_per_video_s


def scaled(costs: OpCosts, decode: float, faces: float, rest: float) -> OpCosts:
    """`costs` with decoding, the face engine and the rest each multiplied by a ratio."""
    return OpCosts(
        keyframe_s=costs.keyframe_s * decode,
        pframe_s=costs.pframe_s * decode,
        hog_s_per_px=costs.hog_s_per_px * faces,
        embed_s=costs.embed_s * faces,
        rest_s_per_packet=costs.rest_s_per_packet * rest,
    )


def difference(once: Counts, more: Counts) -> Counts:
    """Counts of a longer run minus a shorter one: what the extra loops alone cost."""
    return Counts(
        packets=more.packets - once.packets,
        keyframes=more.keyframes - once.keyframes,
        decoded=more.decoded - once.decoded,
        searched_px=more.searched_px - once.searched_px,
        embeddings=more.embeddings - once.embeddings,
    )


def cameras_with_visitors(idle: float, busy: float, usable_cores: float, busy_count: int) -> float:
    """Cameras watched when `busy_count` of them have a visitor at once and the rest are idle.

    `idle` and `busy` are one camera's CPU-s per video-s in each state; 0 when even
    the busy ones alone do not fit.
    """
    spare = usable_cores - busy_count * busy
    if spare < 0:
        return 0.0
    return busy_count + spare / idle
