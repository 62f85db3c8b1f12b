"""Maps a source's media time (seconds) to wall-clock UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MediaClock:
    """Media time `t` happened at `origin + (t - origin_t)`."""

    def __init__(self, origin: datetime | None = None, origin_t: float = 0.0) -> None:
        self.origin = origin or datetime.now(UTC)
        self.origin_t = origin_t

    def anchor(self, t: float, at: datetime | None = None) -> None:
        """Declare that media time `t` is now (or `at`)."""
        self.origin, self.origin_t = at or datetime.now(UTC), t

    def wall(self, t: float) -> datetime:
        """The UTC datetime of media time `t`."""
        return self.origin + timedelta(seconds=t - self.origin_t)
