"""Per-camera status: counters turned into rates, for the log, SIGUSR1 and `watcher status`."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `watcher status` reads the file: no camera machinery (OpenCV, PyAV)
    from watcher.pipeline.live import CameraRunner

STATUS_FILE = "status.json"


@dataclass(frozen=True)
class CameraStatus:
    """One camera's state at a moment, with rates over the last interval."""

    camera: str
    connected: bool
    since: str | None  # ISO time of the current connection, or of the loss
    finished: bool
    input_fps: float
    analysed_fps: float
    frames_skipped: int
    gated_share: float  # of analysed frames, share where nothing moved (no face search)
    embeddings_per_min: float
    reconnects: int
    event: str | None  # the event being recorded, if any
    # The budget of each face not yet decided (faces.embeddings_per_s) and of its
    # evidence (faces.evidence_looks), and the faces in view being judged now.
    budget_per_face_s: float = 0.0
    evidence_looks: int = 0
    faces_undecided: int = 0
    # What the camera's source decodes now (source/limiter.py) and the share of its
    # frames decoded over the interval ("full": every frame, as configured).
    decoding: str = "full"
    decoded_share: float = 1.0

    def line(self) -> str:
        """One log line."""
        state = "done" if self.finished else "connected" if self.connected else "DISCONNECTED"
        event = f", recording event {self.event}" if self.event else ""
        return (
            f"{self.camera}: {state} since {self.since or '-'}; in {self.input_fps:.1f} fps, "
            f"analysed {self.analysed_fps:.1f} fps, skipped {self.frames_skipped}, "
            f"gated {self.gated_share:.0%}, {self.embeddings_per_min:.1f} embeddings/min "
            f"(budget {self.budget_per_face_s:g}/s a face not yet decided, "
            f"{self.faces_undecided} now), decoding {self.decoding} "
            f"({self.decoded_share:.0%} of frames), reconnects {self.reconnects}{event}"
        )


def _share(part: int, whole: int) -> float:
    """part / whole, rounded; 1.0 when nothing was seen (every frame is decoded then)."""
    return round(min(1.0, part / whole), 3) if whole > 0 else 1.0


def _iso(epoch: float | None) -> str | None:
    return (
        None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
    )


class StatusReporter:
    """Samples runners' counters; rates are over the time since the previous sample."""

    def __init__(self, runners: list[CameraRunner]) -> None:
        self.runners = runners
        self._previous: dict[str, tuple[float, int, int, int, int, int, int]] = {}
        self._since = time.monotonic()  # the first rates are over the time since then

    def sample(self) -> list[CameraStatus]:
        """The status of every camera now."""
        out = []
        now = time.monotonic()
        for runner in self.runners:
            c, stats = runner.counters, runner.pipeline.stats
            limiter = runner.pipeline.limiter
            seen, decoded = (
                (limiter.stats.packets, limiter.stats.decoded) if limiter is not None else (0, 0)
            )
            current = (
                now,
                c.frames_in,
                stats.analysed,
                stats.gated,
                stats.embeddings,
                seen,
                decoded,
            )
            then = self._previous.get(runner.name, (self._since, 0, 0, 0, 0, 0, 0))
            self._previous[runner.name] = current
            span = max(1e-9, now - then[0])
            analysed = stats.analysed - then[2]
            event = runner.pipeline.event
            faces = runner.pipeline.camera.faces
            undecided = sum(not tr.settled for tr in list(runner.pipeline.decider.tracks))
            out.append(
                CameraStatus(
                    camera=runner.name,
                    connected=c.connected_since is not None,
                    since=_iso(c.connected_since or c.disconnected_since),
                    finished=c.finished,
                    input_fps=round((c.frames_in - then[1]) / span, 2),
                    analysed_fps=round(analysed / span, 2),
                    frames_skipped=c.frames_skipped,
                    gated_share=round((stats.gated - then[3]) / analysed, 3) if analysed else 0.0,
                    embeddings_per_min=round((stats.embeddings - then[4]) * 60 / span, 2),
                    reconnects=c.reconnects,
                    event=None if event is None else event.id,
                    budget_per_face_s=faces.embeddings_per_s,
                    evidence_looks=faces.evidence_looks,
                    faces_undecided=undecided,
                    decoding=str(limiter.mode) if limiter and limiter.in_use else "full",
                    decoded_share=_share(decoded - then[6], seen - then[5]),
                )
            )
        return out


def write_status(folder: Path, statuses: list[CameraStatus]) -> None:
    """Write the status file `watcher status` reads (atomically: never a half file)."""
    doc = {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pid": os.getpid(),
        "cameras": [asdict(s) for s in statuses],
    }
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{STATUS_FILE}.tmp"
    tmp.write_text(json.dumps(doc, indent=2))
    tmp.replace(folder / STATUS_FILE)


def read_status(folder: Path) -> dict[str, Any] | None:
    """The last status the daemon wrote, or None."""
    try:
        data: dict[str, Any] = json.loads((folder / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data
