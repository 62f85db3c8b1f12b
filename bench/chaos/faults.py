"""The faults: drawn from a seeded generator, one at a time, each undone before the next.

Kinds and weights (a kind whose target is missing is left out):

| kind | what | how long |
|---|---|---|
| camera_freeze | SIGSTOP an RTSP camera's server, SIGCONT after | 2-40 s |
| camera_kill | SIGKILL an RTSP camera's server, start it again on its port after | 1-30 s |
| watcher_sigkill | SIGKILL watcher, start it again after | 1-10 s |
| watcher_sigterm | SIGTERM watcher (a clean stop), start it again after | 1-10 s |
| disk_full | fill the recordings tmpfs to its last byte, remove the filler after | 20-60 s |
| mjpeg_<how> | the HTTP camera: a bad part (garbage, tiny, truncated, resized) | once |
| mjpeg_stall, mjpeg_drop | it sends nothing / drops and refuses connections | 5-40 s |
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.chaos.daemon import Watcher
from bench.chaos.disk import Disk
from bench.chaos.mjpeg import ONE_SHOT, SPELLS, MjpegCamera
from bench.chaos.rtsp import RtspCamera

WEIGHTS = {
    "camera_freeze": 3,
    "camera_kill": 2,
    "watcher_sigkill": 2,
    "watcher_sigterm": 1,
    "disk_full": 1,
    "mjpeg": 3,
}
GAP_S = (15.0, 45.0)  # quiet time before each fault


@dataclass
class Fault:
    kind: str
    target: str
    start: float
    end: float  # when it was undone (for one-shot faults: = start)
    detail: str = ""


class Chaos:
    def __init__(
        self,
        rng: random.Random,
        watcher: Watcher,
        rtsp: list[RtspCamera],
        mjpeg: list[MjpegCamera],
        disk: Disk | None,
        pause: Callable[[float], None],
    ) -> None:
        self.rng, self.watcher, self.rtsp, self.mjpeg, self.disk = rng, watcher, rtsp, mjpeg, disk
        self.pause = pause
        self.faults: list[Fault] = []

    def kinds(self) -> list[str]:
        ok = {"watcher_sigkill", "watcher_sigterm"}
        if self.rtsp:
            ok |= {"camera_freeze", "camera_kill"}
        if self.mjpeg:
            ok.add("mjpeg")
        if self.disk is not None and self.disk.mounted:
            ok.add("disk_full")
        return sorted(ok)

    def one(self, left_s: float) -> Fault | None:
        """Draw a fault and play it out within `left_s` seconds."""
        kinds = self.kinds()
        kind = self.rng.choices(kinds, [WEIGHTS[k] for k in kinds])[0]
        rng = self.rng
        if kind == "camera_freeze":
            cam = rng.choice(self.rtsp)
            hold = min(rng.uniform(2, 40), left_s)
            return self._spell(kind, cam.name, hold, cam.freeze, cam.resume)
        if kind == "camera_kill":
            cam = rng.choice(self.rtsp)
            hold = min(rng.uniform(1, 30), left_s)
            return self._spell(kind, cam.name, hold, cam.kill, cam.restart)
        if kind in ("watcher_sigkill", "watcher_sigterm"):
            hold = min(rng.uniform(1, 10), left_s)
            signum = signal.SIGKILL if kind == "watcher_sigkill" else signal.SIGTERM

            def stop() -> None:
                life = self.watcher.signal(signum)
                detail.append(f"exit {life.exit_code}, {life.how}")

            detail: list[str] = []
            fault = self._spell(kind, "watcher", hold, stop, self.watcher.start)
            fault.detail = "; ".join([fault.detail, *detail])
            return fault
        if kind == "disk_full":
            assert self.disk is not None
            disk = self.disk
            hold = min(rng.uniform(20, 60), left_s)
            filled: list[int] = []
            fault = self._spell(kind, "disk", hold, lambda: filled.append(disk.fill()), disk.free)
            if filled:
                fault.detail += f"; filler {filled[0] / 1e6:.0f} MB"
            return fault
        cam_m = rng.choice(self.mjpeg)
        how = rng.choice(ONE_SHOT + SPELLS)
        if how in SPELLS:
            hold = min(rng.uniform(5, 40), left_s)
            return self._spell(
                f"mjpeg_{how}", cam_m.name, hold, lambda: cam_m.start_spell(how, hold), lambda: None
            )
        now = time.time()
        cam_m.one_shot(how)
        fault = Fault(f"mjpeg_{how}", cam_m.name, now, now)
        self.faults.append(fault)
        return fault

    def _spell(
        self, kind: str, target: str, hold: float, do: Callable[[], None], undo: Callable[[], None]
    ) -> Fault:
        start = time.time()
        do()
        fault = Fault(kind, target, start, start, f"{hold:.1f} s")
        self.faults.append(fault)
        self.pause(hold)
        undo()
        fault.end = time.time()
        return fault

    def gap(self) -> float:
        return self.rng.uniform(*GAP_S)
