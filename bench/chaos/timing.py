"""From the log: how soon watcher noticed each camera fault and how soon it was back."""

from __future__ import annotations

from typing import Any

from bench.chaos.faults import Fault
from bench.chaos.truth import CAMERA_LINE, DOWN, UP

NOTICE_WITHIN_S = 60.0
RECOVER_WITHIN_S = 180.0
CAMERA_FAULTS = ("camera_freeze", "camera_kill", "mjpeg_stall", "mjpeg_drop")


def _camera_lines(lines: list[tuple[float, int, str]], cam: str) -> list[tuple[float, str]]:
    out = []
    for t, _pid, line in lines:
        m = CAMERA_LINE.search(line)
        if m is not None and m["cam"] == cam:
            out.append((t, m["msg"]))
    return out


def fault_times(
    faults: list[Fault], lines: list[tuple[float, int, str]], cameras: list[str]
) -> list[dict[str, Any]]:
    """Per fault: seconds to notice (a camera's loss logged) and to recover.

    Camera faults: noticed at the first line saying the camera was lost after the
    fault began; recovered at its first "connected to" after the fault was undone.
    watcher restarts: recovered when every camera said "connected to" again. A
    one-shot bad MJPEG part: noticed if the camera was lost within 10 s, recovered
    at the next "connected to" after that.
    """
    per_cam = {c: _camera_lines(lines, c) for c in cameras}
    out = []
    for f in faults:
        row: dict[str, Any] = {"kind": f.kind, "target": f.target, "start": f.start}
        row["held_s"] = round(f.end - f.start, 2)
        row["detail"] = f.detail
        if f.target in per_cam:
            cam_lines = per_cam[f.target]
            window = f.end + NOTICE_WITHIN_S if f.kind in CAMERA_FAULTS else f.start + 10.0
            lost = next(
                (t for t, msg in cam_lines if f.start <= t <= window and DOWN.search(msg)), None
            )
            row["noticed_s"] = None if lost is None else round(lost - f.start, 2)
            after = f.end if f.kind in CAMERA_FAULTS else (lost or f.end)
            back = next(
                (
                    t
                    for t, msg in cam_lines
                    if after <= t <= after + RECOVER_WITHIN_S and msg.startswith(UP)
                ),
                None,
            )
            if lost is None:
                back = None  # not noticed (shorter than the read timeout): nothing to recover
            row["recovered_s"] = None if back is None else round(back - f.end, 2)
        elif f.target == "watcher":
            backs = []
            for cam in cameras:
                t = next(
                    (
                        t
                        for t, msg in per_cam[cam]
                        if f.end <= t <= f.end + RECOVER_WITHIN_S and msg.startswith(UP)
                    ),
                    None,
                )
                backs.append(t)
            done = None if None in backs else max(t for t in backs if t is not None)
            row["recovered_s"] = None if done is None else round(done - f.end, 2)
        out.append(row)
    return out
