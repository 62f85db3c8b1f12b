"""How a limited source decodes (source/limiter.py says when): keyframes, catch-ups.

Kept apart from the reading and timing of packets (av_source.py): this part
holds the current GOP's packets for a catch-up and knows whether the decoder
holds the references every-frame decoding needs.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import av

from watcher.source.limiter import DecodeLimiter, DecodingMode

# Packets of one GOP kept for a catch-up (references to the packets the pre-roll
# holds anyway): 30 s at 25 fps, three times the longest GOP of cameras' "smart"
# modes; a catch-up of that many frames is a second or two of decoding, once. A
# stream with no keyframe for longer is decoded in full (LimitedDecoding.unlimited).
MAX_GOP_PACKETS = 750

# Pictures a catch-up hands on (the newest): a third of a second at 25 fps.
CATCH_UP_KEPT = 8

log = logging.getLogger(__name__)

Decode = Callable[[av.Packet | None], list[av.VideoFrame]]


class LimitedDecoding:
    """Decodes one connection's packets as its limiter wants them."""

    def __init__(
        self, limiter: DecodeLimiter, decode: Decode, flush: Callable[[], None], name: str = ""
    ) -> None:
        """`decode(packet)` decodes one packet (None drains); `flush()` empties the decoder;
        `name` says which stream in the log."""
        self.limiter = limiter
        self.name = name
        self._decode = decode
        self._flush = flush
        self._gop: list[av.Packet] | None = None  # the current GOP's packets, for a catch-up
        self._synced = False  # the decoder holds this GOP's references (every-frame mode)
        # Of the frames the latest `take` gave, the first ones a catch-up decoded.
        self.caught_up = 0
        # A stream past MAX_GOP_PACKETS without a keyframe (a camera that refreshes its
        # picture a stripe at a time instead, or sent a single keyframe): keyframes cannot
        # be relied on, and this connection is decoded in full from then on.
        self.unlimited = False
        # A keyframe gave no picture (broken, or before a file's edit list, or a camera's
        # gradual refresh): every frame is decoded until one comes, however long.
        self._picture_awaited = False

    def take(
        self, packet: av.Packet, keyframe: bool, t: float, last_pts: int | None
    ) -> list[av.VideoFrame]:
        """Decode what the limiter wants of this packet (`last_pts`: the latest picture out)."""
        frames = self._take(packet, keyframe, t, last_pts)
        if frames:
            self._picture_awaited = False
        return frames

    def _take(
        self, packet: av.Packet, keyframe: bool, t: float, last_pts: int | None
    ) -> list[av.VideoFrame]:
        limiter = self.limiter
        limiter.stats.packets += 1
        self.caught_up = 0
        if self.unlimited:
            return self._decode(packet)
        if keyframe:
            self._gop = [packet]
            limiter.keyframe_at(t)
        elif self._gop is not None:
            self._gop.append(packet)
            if len(self._gop) > MAX_GOP_PACKETS:
                return self._give_up(last_pts)
        limiter.cued(packet.size, keyframe, t)
        wanted = limiter.wants_every_frame(t) or self._picture_awaited
        if limiter.mode is DecodingMode.EVERY_FRAME:
            if not wanted and not keyframe:
                # Nothing wants the rest of this GOP: decoding stops now, not at the next
                # keyframe (a GOP may be 10 s). Its packets are kept for a catch-up; what
                # the decoder held back for reordering is dropped with its references.
                limiter.switch(DecodingMode.KEYFRAMES)
                self._flush()
                self._synced = False
                return []
            if keyframe and not wanted:
                limiter.switch(DecodingMode.KEYFRAMES)
                frames = self._keyframe(packet)
                if frames:  # one that gives no picture does not count as seen
                    limiter.keyframe_decoded(t)
                return frames
            if keyframe:
                self._synced = True
                limiter.keyframe_decoded(t)  # its picture comes out with the frames after
            return self._decode(packet) if self._synced else []
        if not wanted:
            if not keyframe:
                return []
            if not limiter.keyframe_due(t):
                limiter.stats.thinned += 1  # kept for a catch-up all the same
                return []
            frames = self._keyframe(packet)
            if frames:
                limiter.keyframe_decoded(t)
                return frames
            # A keyframe that gives no picture: analysis would see nothing for a whole
            # GOP. Decode on until a picture comes.
            self._picture_awaited = True
        limiter.switch(DecodingMode.EVERY_FRAME)
        if keyframe:
            self._synced = True
            return self._decode(packet)
        return self._catch_up(last_pts)

    def _give_up(self, last_pts: int | None) -> list[av.VideoFrame]:
        """No keyframe for MAX_GOP_PACKETS: every frame of this connection from here on.

        Unless every frame was being decoded already, the GOP so far is decoded at once
        (the decoder needs each of its frames; at most MAX_GOP_PACKETS, once), then
        dropped: nothing is kept from here on (bounded memory).
        """
        log.warning(
            "%s: no keyframe in %d frames: every frame is decoded", self.name, MAX_GOP_PACKETS
        )
        self.unlimited = True
        if self.limiter.mode is DecodingMode.EVERY_FRAME and self._synced:
            assert self._gop is not None
            frames = self._decode(self._gop[-1])
        else:
            self.limiter.switch(DecodingMode.EVERY_FRAME)
            frames = self._catch_up(last_pts)
        self._gop = None
        return frames

    def _keyframe(self, packet: av.Packet) -> list[av.VideoFrame]:
        """Decode a keyframe alone and get its picture out now.

        A decoder holds pictures back to reorder B-frames: fed keyframes only, it
        would give each out one or two GOPs late. Draining it after the keyframe
        gives the picture at once; the flush readies it for the next one.
        """
        frames = self._decode(packet) + self._decode(None)
        self._flush()
        self._synced = False
        return frames

    def _catch_up(self, last_pts: int | None) -> list[av.VideoFrame]:
        """Decode the GOP so far from its keyframe: every frame from here on decodes."""
        gop = self._gop
        if gop is None:
            self._synced = False  # nothing to catch up from: every frame from the next keyframe
            return []
        self._flush()
        # Only the newest pictures are kept: analysis wants the latest (live), or a few a
        # second (replay), and a GOP of decoded 1080p pictures is 3 MB each (measured:
        # sixteen cameras keeping whole catch-ups peaked 0.6 GB higher).
        kept: deque[av.VideoFrame] = deque(maxlen=CATCH_UP_KEPT)
        given = 0
        for each in gop:
            for frame in self._decode(each):
                # The keyframe (and any picture after it) was given out before.
                if last_pts is None or frame.pts is None or frame.pts > last_pts:
                    kept.append(frame)
                    given += 1
        self._synced = True
        stats = self.limiter.stats
        stats.catch_ups += 1
        stats.caught_up_frames += given
        self.caught_up = max(0, len(kept) - 1)  # the newest is analysis's, not history
        return list(kept)
