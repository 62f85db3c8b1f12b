"""What should have been recorded: every visitor's appearance on every camera, in wall time,
and whether watcher and the camera were both up for the whole of it.

- An RTSP camera's appearances come from its witness: each connection's packets, tied
  to the file by a keyframe matched picture for picture, give the wall time at which
  each moment of the file reached the loopback. The camera was up for an appearance
  when the witness got every frame of it, from a keyframe before the visitor came in
  (`LEAD_S`) to the frame with none of them left, in real time (no gap over `GAP_S`).
- The MJPEG camera is live: the picture it sends at t0 + s is the scene's at s mod the
  period. It was up unless a stall or drop spell touched the appearance.
- watcher was up for a camera from its "connected to" line for that camera until a line
  saying the camera was lost ("; reconnecting", "; retrying", "attempt N"), or until the
  soak signalled the process (or it exited). It must be up from `LEAD_S` before the
  visitor comes in until they are gone.

An appearance of an unknown visitor is *expected* when both held.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import datetime

from bench.chaos.footage import Footage, Visit
from bench.chaos.mjpeg import SPELLS, MjpegCamera
from bench.chaos.rtsp import RtspCamera, Session

LEAD_S = 2.0  # a keyframe interval before the visitor enters
GAP_S = 1.0  # a longer silence between two frames is an outage of the camera
MATCH_OK = 0.5  # mean grey difference under which a keyframe is the file's
CAMERA_LINE = re.compile(r"watcher\.(?:capture|camera)\.(?P<cam>[\w-]+): (?P<msg>.*)$")
DOWN = re.compile(r"; (?:reconnecting|retrying)$|^attempt \d+: ")
UP = "connected to "
STATUS = re.compile(r"status (?P<cam>[\w-]+): connected since (?P<at>\S+?);")


@dataclass
class Appearance:
    camera: str
    visitor: str
    known: bool
    round: int
    enter: float  # wall times
    arrival: float
    leave: float
    exit: float
    camera_up: bool
    watcher_up: bool = False
    events: list[str] | None = None

    @property
    def expected(self) -> bool:
        return not self.known and self.camera_up and self.watcher_up


def connected_spans(lines: list[tuple[float, int, str]], cameras: list[str]) -> dict[str, list]:
    """Per camera, the [from, to] wall times watcher said it was connected."""
    spans: dict[str, list[list[float]]] = {c: [] for c in cameras}
    open_at: dict[str, float | None] = dict.fromkeys(cameras)

    def close(cam: str, t: float) -> None:
        since = open_at[cam]
        if since is not None:
            spans[cam].append([since, t])
        open_at[cam] = None

    for t, _pid, line in lines:
        if line.startswith("CHAOS "):
            if "sending SIG" in line or "exited" in line or "started" in line:
                for cam in cameras:
                    close(cam, t)
            continue
        since = STATUS.search(line)
        if since is not None and since["cam"] in spans:
            # A reconnect within an outage is logged at DEBUG only; the status line's
            # "connected since" shows it: the time before it is not counted as up.
            cam = since["cam"]
            at = datetime.fromisoformat(since["at"]).timestamp()
            since_open = open_at[cam]
            if since_open is not None and at > since_open + 1.0:
                close(cam, since_open)
                open_at[cam] = at
            continue
        m = CAMERA_LINE.search(line)
        if m is None or m["cam"] not in spans:
            continue
        cam, msg = m["cam"], m["msg"]
        if msg.startswith(UP):
            if open_at[cam] is None:
                open_at[cam] = t
        elif DOWN.search(msg):
            close(cam, t)
    end = lines[-1][0] if lines else 0.0
    for cam in cameras:
        close(cam, end)
    return spans


def covered(spans: list[list[float]], a: float, b: float) -> bool:
    return any(s <= a and b <= e for s, e in spans)


def _rtsp(cam: RtspCamera, footage: Footage) -> list[Appearance]:
    out: list[Appearance] = []
    period, fps = footage.period_s, footage.fps
    for session in cam.witness.sessions:
        if session.base is None or (session.match_diff or 0) > MATCH_OK:
            continue
        out += _session(cam.name, session, footage.visits, period, fps)
    return out


def _session(
    name: str, session: Session, visits: list[Visit], period: float, fps: float
) -> list[Appearance]:
    assert session.base is not None
    packets = sorted(session.packets)
    pos = [p for p, _ in packets]
    walls = [w for _, w in packets]
    base = session.base
    first_round = int((pos[0] + base) // period)
    last_round = int((pos[-1] + base) // period)

    def wall(p: float) -> float:
        i = min(bisect.bisect_left(pos, p), len(pos) - 1)
        if i > 0 and abs(pos[i - 1] - p) < abs(pos[i] - p):
            i -= 1
        return walls[i]

    out = []
    for r in range(first_round, last_round + 1):
        for v in visits:
            a = r * period + v.enter_s - LEAD_S - base
            b = r * period + v.exit_s - base
            if b < pos[0] or a > pos[-1]:
                continue
            i, j = bisect.bisect_left(pos, a), bisect.bisect_right(pos, b)
            inside = walls[i:j]
            whole = a >= pos[0] and b <= pos[-1] and (j - i) >= 0.97 * (b - a) * fps
            steady = (
                whole
                and max(
                    (y - x for x, y in zip(sorted(inside), sorted(inside)[1:], strict=False)),
                    default=0.0,
                )
                <= GAP_S
            )
            shift = r * period - base
            out.append(
                Appearance(
                    name,
                    v.person,
                    v.known,
                    r,
                    wall(shift + v.enter_s),
                    wall(shift + v.arrival_s),
                    wall(shift + v.leave_s),
                    wall(shift + v.exit_s),
                    camera_up=steady,
                )
            )
    return out


def _mjpeg(cam: MjpegCamera, footage: Footage, end: float, faults: list) -> list[Appearance]:
    out = []
    period = cam.period_s
    spells = [
        (f.start, f.end)
        for f in faults
        if f.target == cam.name and f.kind.removeprefix("mjpeg_") in SPELLS
    ]
    for r in range(int((end - cam.t0) // period) + 1):
        t = cam.t0 + r * period
        for v in footage.visits:
            a, b = t + v.enter_s - LEAD_S, t + v.exit_s
            if t + v.enter_s > end:
                continue
            up = not any(s < b and a < e for s, e in spells)
            out.append(
                Appearance(
                    cam.name,
                    v.person,
                    v.known,
                    r,
                    t + v.enter_s,
                    t + v.arrival_s,
                    t + v.leave_s,
                    t + v.exit_s,
                    camera_up=up,
                )
            )
    return out


def appearances(
    footage: Footage,
    rtsp: list[RtspCamera],
    mjpeg: list[MjpegCamera],
    lines: list[tuple[float, int, str]],
    faults: list,
    end: float,
) -> list[Appearance]:
    names = [c.name for c in rtsp] + [c.name for c in mjpeg]
    spans = connected_spans(lines, names)
    out: list[Appearance] = []
    for cam in rtsp:
        out += _rtsp(cam, footage)
    for cam_m in mjpeg:
        out += _mjpeg(cam_m, footage, end, faults)
    for app in out:
        app.watcher_up = covered(spans[app.camera], app.enter - LEAD_S, app.exit)
    return sorted(out, key=lambda a: (a.arrival, a.camera))
