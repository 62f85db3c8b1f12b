"""Which frames get analysed: at most `analyse_fps` per second of media time."""

from __future__ import annotations


class AnalysisSchedule:
    """Media-time pacing of analysis, the same for live cameras and replays."""

    def __init__(self, fps: float) -> None:
        self.interval = 1.0 / fps
        self._next: float | None = None

    def due(self, t: float) -> bool:
        """True (and books the next slot) when a frame at media time `t` should be analysed."""
        if self._next is not None and t < self._next - 1e-6:
            return False
        # Slots follow the schedule, not the frame that filled them, so a
        # 29.97 fps source analysed at 5 fps does not drift to 4.3 fps.
        step = self.interval
        self._next = t + step if self._next is None or t - self._next > step else self._next + step
        return True
