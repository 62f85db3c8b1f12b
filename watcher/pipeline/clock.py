"""Maps a source's media time (seconds) to wall-clock UTC datetimes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

# How fast the live mapping may move later when packets keep arriving late: the
# camera's clock and ours drift apart by up to ~100 ppm, and a mapping that could
# only move earlier would drift by seconds a day.
_SLACK_PER_S = 0.001


class MediaClock:
    """Media time `t` happened at `origin + (t - origin_t)`."""

    def __init__(self, origin: datetime | None = None, origin_t: float = 0.0) -> None:
        self.origin = origin or datetime.now(UTC)
        self.origin_t = origin_t
        self._lag: float | None = None  # wall minus media time, seconds (monotonic base)
        self._lag_at = 0.0

    def anchor(self, t: float, at: datetime | None = None) -> None:
        """Declare that media time `t` is now (or `at`)."""
        self.origin, self.origin_t = at or datetime.now(UTC), t

    def arrived(self, t: float) -> None:
        """A live packet of media time `t` arrives now: keep the earliest-arriving mapping.

        Packets come in bursts after a connect (FFmpeg buffers a second of them
        while probing) and are late now and then; the packet that arrives the
        soonest after its media time shows the true mapping.
        """
        now = time.monotonic()
        lag = now - t
        if self._lag is not None:
            lag = min(lag, self._lag + (now - self._lag_at) * _SLACK_PER_S)
        late = (now - t) - lag  # how much later than the best mapping this packet came
        self._lag, self._lag_at = lag, now
        self.anchor(t, datetime.now(UTC) - timedelta(seconds=late))

    def reset(self) -> None:
        """Forget the live mapping (a new connection)."""
        self._lag = None

    def wall(self, t: float) -> datetime:
        """The UTC datetime of media time `t`."""
        return self.origin + timedelta(seconds=t - self.origin_t)
