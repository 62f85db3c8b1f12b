"""A progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import time
from typing import TextIO

_WIDTH = 30
_REDRAW_S = 0.2


class ProgressBar:
    """`update(done, total)` redraws at most every 0.2 s; silent when not a terminal."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.enabled = stream.isatty()
        self._last = 0.0

    def update(self, done: float, total: float) -> None:
        """Show `done` of `total` (seconds of video)."""
        now = time.monotonic()
        if not self.enabled or now - self._last < _REDRAW_S:
            return
        self._last = now
        share = min(1.0, done / total) if total > 0 else 0.0
        filled = int(share * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {share:4.0%} {done:6.1f}/{total:.1f} s")
        self.stream.flush()

    def done(self) -> None:
        """End the bar's line."""
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()
