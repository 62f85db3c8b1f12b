"""Real-time latency of a live camera: an unknown face on screen -> its event row in the database.

    python bench/latency.py                      # 12 unknown appearances (~4 min)
    python bench/latency.py --appearances 20

Issue 3, item 6: one 720p camera at 25 fps over RTSP on this machine; from the first
frame in which an unknown face is visible to the event's database row, median under
1.5 s over at least 10 appearances; and the clip starts at least `pre_capture_s`
before that frame.

The camera: the RTSP server the tests use (tests/rtsp/harness.py, GStreamer on
127.0.0.1) streaming, looped, bench/out/latency/visitors-loop.mp4: the two unknown
visitors of bench/out/visitors.mp4 (footage.py), each cut out with the empty hallway
around them (remuxed, not re-encoded; each piece ends with the keyframe that follows
it, a one-frame GOP), so one round of 32.08 s holds two unknown appearances. A round
is not a whole number of analysis slots (0.2 s at analyse_fps 5): from one round to
the next an arrival falls at another point between two analysed frames, as real
visitors do. `watcher run` watches it with watcher's default faces/record settings
and the bench gallery (the known visitor's photo).

Mapping media time to wall time. The server streams in real time and loops with
timestamps that keep increasing, so a frame's stream position is `round * period +
its time in the file`. A witness (a plain PyAV client that only demuxes) connects
first, so the shared stream starts from the file's beginning for it and its packet
timestamps are stream positions; it notes when each packet reaches it. The arrival
frame of an appearance "is visible" when its packet reached the witness: the
earliest moment any client on this machine could have it (for B-frames the decoder
shows it up to two frames later, so the latency is, if anything, overstated by that).
The daemon joins the stream a few seconds later; its own media clock is not used.
The database row's time is events.created_at, set by the daemon's writer thread when
it inserts the row. Each appearance whose arrival comes at least pre_capture_s + 1 s
after the daemon said "connected to" is measured.

The clip check compares pictures, not clocks: the clip's first frame (a keyframe,
remuxed untouched) decodes to exactly one keyframe of the looped file, which gives
its position; the lead is the arrival minus that position. The same position tells
how far the daemon's clip_started_at is from the true wall time of that frame.

Writes bench/out/latency.md (the table, date and machine) and bench/out/latency.json
(every figure); the daemon's log is bench/out/latency/daemon.log.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import _venv  # noqa: F401  (re-runs under .venv/bin/python if needed)
import av
import footage
import numpy as np
import numpy.typing as npt
from footage import OUT, ROOT
from run import machine_info

from watcher.config.sections import FacesConfig, RecordConfig

sys.path.insert(0, str(ROOT))  # tests/rtsp/harness.py: the RTSP server of the tests
from tests.rtsp.harness import MISSING_HINT, RtspServer, gst_rtsp_available  # noqa: E402

WORK = OUT / "latency"
LOOP_VIDEO = WORK / "visitors-loop.mp4"
LOOP_META = WORK / "visitors-loop.json"
LOOP_VERSION = 2
REPORT_MD = OUT / "latency.md"
REPORT_JSON = OUT / "latency.json"
CAMERA = "door"
GOAL_MEDIAN_S = 1.5
MIN_APPEARANCES = 10
# Cut each unknown visitor out with this much empty hallway around them (seconds,
# widened to keyframes): room for the pre-roll and for the event to end before the next.
BEFORE_S, AFTER_S = 4.0, 4.0
# An appearance is measured once the daemon has been watching this long before it.
SETTLE_S = RecordConfig().pre_capture_s + 1.0
# After the last arrival: time for its row (and a bit of its clip) before SIGTERM.
TAIL_S = 5.0
# An event belongs to the appearance it follows within this window (created_at - arrival).
MATCH_EARLY_S, MATCH_LATE_S = 1.0, 10.0
THUMB = (160, 90)
Thumb = npt.NDArray[np.float32]


# --------------------------------------------------------------------------- footage


@dataclass(frozen=True)
class Appearance:
    """An unknown visitor in one round of the looped file."""

    visitor: str
    loop_s: float  # arrival (first frame with the face fully in view), in the loop file
    round: int

    def position(self, period: float) -> float:
        return self.round * period + self.loop_s


def _keyframe_times(video: Path) -> list[float]:
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        tb = stream.time_base
        assert tb is not None
        return [float(p.pts * tb) for p in c.demux(stream) if p.is_keyframe and p.pts is not None]


def build_loop(source: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The unknown visitors of visitors.mp4 back to back: the looped camera's file."""
    key = f"v{LOOP_VERSION}:{meta['generator']}:{BEFORE_S}:{AFTER_S}"
    old = _read_json(LOOP_META)
    if old is not None and old.get("key") == key and LOOP_VIDEO.is_file():
        return old
    keys = sorted(set(_keyframe_times(source)))
    segments: list[tuple[float, float, dict[str, Any]]] = []
    for visit in meta["visits"]:
        if visit["known"]:
            continue
        start = max(k for k in keys if k <= visit["enter_s"] - BEFORE_S)
        end = min((k for k in keys if k >= visit["exit_s"] + AFTER_S), default=meta["duration_s"])
        segments.append((start, end, visit))
    WORK.mkdir(parents=True, exist_ok=True)
    arrivals: list[dict[str, Any]] = []
    frames = 0
    with av.open(str(source)) as src, av.open(str(LOOP_VIDEO), "w") as out:
        template = src.streams.video[0]
        tb = template.time_base
        assert tb is not None
        stream = out.add_stream_from_template(template)
        offset = 0  # output so far, in the stream's time base
        for start, end, visit in segments:
            first = round(start / tb)
            shift = offset - first
            length = round((end - start) / tb)
            src.seek(first, stream=template, backward=True, any_frame=False)
            for packet in src.demux(template):
                if packet.dts is None or packet.pts is None or packet.pts < first:
                    continue
                closing = packet.is_keyframe and packet.pts >= round(end / tb)
                if closing:  # the next keyframe ends the segment as a one-frame GOP
                    length = packet.pts - first + (packet.duration or round(1 / (25 * tb)))
                packet.pts += shift
                packet.dts += shift
                packet.stream = stream
                out.mux(packet)
                frames += 1
                if closing:
                    break
            arrivals.append(
                {
                    "visitor": visit["person"],
                    "loop_s": round(float(offset * tb) + visit["arrival_s"] - start, 3),
                    "source_s": visit["arrival_s"],
                    "segment": [start, end],
                }
            )
            offset += length
    rate = meta["fps"]
    loop = {
        "key": key,
        "video": LOOP_VIDEO.name,
        "source": source.name,
        "frames": frames,
        "fps": rate,
        "period_s": frames / rate,
        "arrivals": arrivals,
    }
    LOOP_META.write_text(json.dumps(loop, indent=2) + "\n")
    return loop


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def _thumb(frame: av.VideoFrame) -> Thumb:
    grey = frame.reformat(width=THUMB[0], height=THUMB[1], format="gray").to_ndarray()
    return np.asarray(grey, dtype=np.float32)


def keyframe_thumbs(video: Path) -> list[tuple[float, Thumb]]:
    """Each keyframe of the file: its time and a small grey picture of it."""
    out: list[tuple[float, Thumb]] = []
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in c.decode(stream):
            out.append((float(frame.time or 0.0), _thumb(frame)))
    return out


def clip_start(clip: Path, thumbs: list[tuple[float, Thumb]]) -> tuple[float, float]:
    """(time in the looped file of the clip's first frame, mean difference of the match)."""
    with av.open(str(clip)) as c:
        first = next(iter(c.decode(video=0)))
        picture = _thumb(first)
    diffs = [(float(np.abs(picture - thumb).mean()), t) for t, thumb in thumbs]
    diff, t = min(diffs)
    return t, diff


# --------------------------------------------------------------------------- live run


class Witness(threading.Thread):
    """The stream's first client: when each packet (by stream position) reached a client."""

    def __init__(self, url: str) -> None:
        super().__init__(name="witness", daemon=True)
        self.url = url
        self.arrived: dict[int, float] = {}  # pts (90 kHz) -> wall time it came
        self.offsets: list[tuple[float, float]] = []  # (wall, wall - dts seconds)
        self.newest: tuple[int, float] | None = None  # (highest pts so far, when it came)
        self.error: str | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            with av.open(self.url, options={"rtsp_transport": "tcp"}, timeout=(10, 5)) as c:
                stream = c.streams.video[0]
                tb = stream.time_base
                assert tb is not None
                for packet in c.demux(stream):
                    now = time.time()
                    if packet.pts is not None:
                        self.arrived.setdefault(int(packet.pts), now)
                        if self.newest is None or packet.pts > self.newest[0]:
                            self.newest = (int(packet.pts), now)
                    if packet.dts is not None:
                        self.offsets.append((now, now - float(packet.dts * tb)))
                    if self._halt.is_set():
                        return
        except (av.FFmpegError, OSError) as exc:
            self.error = str(exc)

    def stop(self) -> None:
        self._halt.set()

    def packets(self) -> int:
        return len(self.arrived)

    def wall(self, position: float) -> float | None:
        """When the packet of the frame at this stream position reached the witness."""
        pts = round(position * 90000)
        if pts in self.arrived:
            return self.arrived[pts]
        near = [p for p in self.arrived if abs(p - pts) < 1800]  # half a frame at 25 fps
        return self.arrived[min(near, key=lambda p: abs(p - pts))] if near else None

    def steadiness(self) -> dict[str, float]:
        """How constant (arrival - dts) stayed: the stream ran in real time, round after round."""
        if len(self.offsets) < 100:
            return {}
        base = min(o for _, o in self.offsets)
        start, end = self.offsets[0][0], self.offsets[-1][0]
        early = [o for w, o in self.offsets if start + 5 < w < start + 35]
        late = [o for w, o in self.offsets if w > end - 30]
        return {
            "median_jitter_ms": 1000 * (statistics.median(o for _, o in self.offsets) - base),
            "drift_ms": 1000 * (statistics.median(late) - statistics.median(early))
            if early and late
            else 0.0,
        }


class DaemonProcess:
    """`watcher run`, its stderr lines time-stamped as they come and copied to a log file."""

    def __init__(self, config: Path, log: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watcher", "run", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, args=(self.proc.stderr,), daemon=True).start()

    def _pump(self, pipe: IO[str] | None) -> None:
        assert pipe is not None
        for line in pipe:
            with self._lock:
                self.lines.append((time.time(), line.rstrip("\n")))
            self.log.write(line)
            self.log.flush()

    def first(self, text: str, timeout: float) -> float:
        """Wall time of the first line containing `text`; waits at most `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for at, line in self.lines:
                    if text in line:
                        return at
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = "\n".join(line for _, line in self.lines[-20:])
        raise SystemExit(f"latency: no {text!r} from watcher within {timeout:g} s:\n{tail}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        time.sleep(0.2)
        self.log.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def write_config(url: str) -> Path:
    """Watcher's defaults, one RTSP camera, the bench gallery (the known visitor)."""
    gallery = OUT / "known_faces"
    config = WORK / "watcher.yaml"
    config.write_text(
        "# Written by bench/latency.py: faces and record settings are watcher's defaults.\n"
        f"known_faces_dir: {gallery}\n"
        "recordings_dir: recordings\n"
        "database_url: sqlite:///watcher.db\n"
        "log_level: INFO\n"
        "cameras:\n"
        f"  {CAMERA}:\n"
        f"    source: {url}\n"
    )
    return config


@dataclass
class Measured:
    visitor: str
    round: int
    loop_s: float
    arrival_wall: float
    event: str | None = None
    row_after_s: float | None = None  # created_at - arrival
    clip_loop_s: float | None = None  # the clip's first frame, in the looped file
    clip_lead_s: float | None = None  # arrival - clip start
    clip_match: float | None = None  # mean grey difference of the keyframe match (0: identical)
    clip_started_at_error_s: float | None = None  # daemon's clip_started_at - true wall time


def _utc(stored: str | None) -> float | None:
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).timestamp()


def read_events(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT id, camera, created_at, started_at, clip_started_at, ended_at, clip_path,"
            " status FROM events ORDER BY created_at"
        ).fetchall()
    return [
        {
            **dict(r),
            "created": _utc(r["created_at"]),
            "started": _utc(r["started_at"]),
            "clip_started": _utc(r["clip_started_at"]),
        }
        for r in rows
    ]


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    scenes = footage.build()
    visitors = next(s for s in scenes if s.name == "visitors")
    meta = _read_json(visitors.video.with_suffix(".json"))
    assert meta is not None, visitors.video
    loop = build_loop(visitors.video, meta)
    period = float(loop["period_s"])
    thumbs = keyframe_thumbs(LOOP_VIDEO)
    pre_capture = RecordConfig().pre_capture_s

    for name in ("watcher.db", "watcher.db-wal", "watcher.db-shm"):
        (WORK / name).unlink(missing_ok=True)
    recordings = WORK / "recordings"
    shutil.rmtree(recordings, ignore_errors=True)
    info = machine_info()
    started = time.monotonic()

    with RtspServer(LOOP_VIDEO, loop=True) as server:
        config = write_config(server.url)
        witness = Witness(server.url)
        witness.start()
        deadline = time.monotonic() + 30
        while witness.packets() < 50 and time.monotonic() < deadline and witness.is_alive():
            time.sleep(0.1)
        if witness.packets() < 50:
            raise SystemExit(f"latency: the witness got no stream: {witness.error}")
        print(f"latency: streaming {LOOP_VIDEO.name} at {server.url}", file=sys.stderr)
        daemon = DaemonProcess(config, WORK / "daemon.log")
        try:
            connected = daemon.first("connected to rtsp://", timeout=120)
            # The appearances to measure: every one far enough after the daemon connected.
            first_pos = witness_position(witness, connected) + SETTLE_S
            todo: list[Appearance] = []
            r = 0
            while len(todo) < args.appearances:
                for a in loop["arrivals"]:
                    app = Appearance(a["visitor"], float(a["loop_s"]), r)
                    if app.position(period) >= first_pos and len(todo) < args.appearances:
                        todo.append(app)
                r += 1
            last = todo[-1].position(period)
            eta = last - witness_position(witness, time.time()) + TAIL_S
            print(
                f"latency: watcher connected; measuring {len(todo)} appearances, ~{eta:.0f} s",
                file=sys.stderr,
            )
            while witness_position(witness, time.time()) < last + TAIL_S:
                if daemon.proc.poll() is not None:
                    raise SystemExit("latency: watcher exited early; see " + str(daemon.log.name))
                if not witness.is_alive():
                    raise SystemExit(f"latency: the witness lost the stream: {witness.error}")
                if time.monotonic() - started > args.timeout:
                    raise SystemExit(f"latency: gave up after {args.timeout:g} s")
                time.sleep(0.5)
            daemon.proc.send_signal(signal.SIGUSR1)  # a status line: fps, frames skipped
            time.sleep(1.0)
            code = daemon.stop()
        finally:
            daemon.kill()
            witness.stop()
    witness.join(10)
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    status = [line for _, line in daemon.lines if f"status {CAMERA}:" in line]

    events = [e for e in read_events(WORK / "watcher.db") if e["camera"] == CAMERA]
    measured: list[Measured] = []
    for app in todo:
        pos = app.position(period)
        arrived = witness.wall(pos)
        if arrived is None:
            raise SystemExit(f"latency: the witness has no packet at position {pos:.2f} s")
        measured.append(Measured(app.visitor, app.round, app.loop_s, arrived))
    taken: set[str] = set()
    for m in measured:
        for e in events:
            created = e["created"]
            if e["id"] in taken or created is None:
                continue
            if m.arrival_wall - MATCH_EARLY_S <= created <= m.arrival_wall + MATCH_LATE_S:
                taken.add(e["id"])
                m.event, m.row_after_s = e["id"], created - m.arrival_wall
                if e["clip_path"]:
                    clip_t, diff = clip_start(Path(e["clip_path"]), thumbs)
                    lead = m.loop_s - clip_t
                    clip_round = m.round if lead >= 0 else m.round - 1
                    m.clip_loop_s, m.clip_match = clip_t, diff
                    m.clip_lead_s = lead if lead >= 0 else lead + period
                    true_wall = witness.wall(clip_round * period + clip_t)
                    if e["clip_started"] is not None and true_wall is not None:
                        m.clip_started_at_error_s = e["clip_started"] - true_wall
                break
    window = (measured[0].arrival_wall - MATCH_EARLY_S, measured[-1].arrival_wall + MATCH_LATE_S)
    extra = [
        e["id"]
        for e in events
        if e["id"] not in taken and e["created"] and window[0] <= e["created"] <= window[1]
    ]
    return {
        "info": info,
        "exit_code": code,
        "loop": loop,
        "settings": {
            "faces": FacesConfig().model_dump(),
            "record": RecordConfig().model_dump(),
            "camera": f"rtsp://127.0.0.1 (TCP), {meta['width']}x{meta['height']} {meta['fps']} fps",
        },
        "connected_wall": connected,
        "witness": {"packets": witness.packets(), **witness.steadiness()},
        "status": status[-1] if status else None,
        "appearances": [asdict(m) for m in measured],
        "extra_events": extra,
        "pre_capture_s": pre_capture,
    }


def witness_position(witness: Witness, wall: float) -> float:
    """The stream position that reached the witness at this wall time (from its newest pts)."""
    newest = witness.newest  # one read: the witness thread replaces it, never mutates it
    if newest is None:
        return 0.0
    pts, at = newest
    return pts / 90000 + (wall - at)


# --------------------------------------------------------------------------- report


def _hms(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S.%f")[:-3]


def _s(value: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if value is None else fmt.format(value)


def report(result: dict[str, Any]) -> str:
    info = result["info"]
    apps = result["appearances"]
    pre = result["pre_capture_s"]
    lat = [a["row_after_s"] for a in apps if a["row_after_s"] is not None]
    leads = [a["clip_lead_s"] for a in apps if a["clip_lead_s"] is not None]
    errors = [
        a["clip_started_at_error_s"] for a in apps if a["clip_started_at_error_s"] is not None
    ]
    missed = [a for a in apps if a["event"] is None]
    median = statistics.median(lat) if lat else None
    ok_latency = median is not None and median < GOAL_MEDIAN_S and len(lat) >= MIN_APPEARANCES
    ok_clips = len(leads) == len(apps) and all(x >= pre - 1e-6 for x in leads)
    bad_match = [a for a in apps if a["clip_match"] is not None and a["clip_match"] > 0.5]
    lines = [
        "# watcher live latency (RTSP)",
        "",
        f"- date: {info['date']}",
        f"- machine: `{info['machine']}`, {info['cpu']}, {info['cores']} cores, "
        f"Linux {info['kernel']}",
        f"- Python {info['python']}; PyAV {info['versions']['av']}, "
        f"dlib-bin {info['versions']['dlib-bin']}",
        f"- watcher: {info['watcher_commit']}, source hash {info['watcher_source_before']}",
        f"- load average before {info['load_before']}, after {info['load_after']} "
        "(the machine is shared)",
        f"- camera: {result['settings']['camera']}, looping "
        f"`{result['loop']['video']}` ({result['loop']['period_s']:g} s a round, "
        f"{len(result['loop']['arrivals'])} unknown visitors), watcher's default settings "
        f"(analyse_fps {result['settings']['faces']['analyse_fps']:g}, confirm_frames "
        f"{result['settings']['faces']['confirm_frames']}, pre_capture_s {pre:g})",
        f"- daemon status at the end: `{result['status'] or 'none'}`",
        "",
        "| # | visitor | round | arrival in file (s) | arrival (UTC) | DB row after (s) "
        "| clip starts before arrival (s) | daemon's clip_started_at off by (s) |",
        "|--:|---|--:|--:|---|--:|--:|--:|",
    ]
    for i, a in enumerate(apps, 1):
        lines.append(
            f"| {i} | {a['visitor']} | {a['round']} | {a['loop_s']:.2f} | "
            f"{_hms(a['arrival_wall'])} | {_s(a['row_after_s'])} | {_s(a['clip_lead_s'])} | "
            f"{_s(a['clip_started_at_error_s'], '{:+.2f}')} |"
        )
    lines += [
        "",
        f"**DB row after the arrival frame**: median **{_s(median)} s**, max "
        f"**{_s(max(lat) if lat else None)} s** over {len(lat)} appearances "
        f"(goal: median < {GOAL_MEDIAN_S:g} s over ≥ {MIN_APPEARANCES}) — "
        f"{'met' if ok_latency else 'NOT met'}.",
        "",
        f"**Clip start**: at least {_s(min(leads) if leads else None)} s before the arrival "
        f"frame (goal: ≥ pre_capture_s = {pre:g} s for every clip) — "
        f"{'met' if ok_clips else 'NOT met'}.",
    ]
    if missed:
        lines.append(f"\nMissed (no event): {', '.join(str(apps.index(a) + 1) for a in missed)}.")
    if result["extra_events"]:
        lines.append(f"\nEvents matching no appearance: {', '.join(result['extra_events'])}.")
    if bad_match:
        lines.append(f"\nClip starts not identified exactly: {len(bad_match)}.")
    if errors:
        lines.append(
            f"\nThe daemon's own clip_started_at is off by {min(errors):+.2f} to "
            f"{max(errors):+.2f} s from the true wall time of the clip's first frame "
            "(its media clock's mapping to wall time; not used for the figures above)."
        )
    w = result["witness"]
    if w:
        lines.append(
            f"\nStream timing: packets came {w['median_jitter_ms']:.0f} ms (median) after "
            f"the earliest; drift over the run {w['drift_ms']:+.0f} ms."
        )
    lines += [
        "",
        "How it is measured: `bench/latency.py` (see its docstring). The arrival is the first "
        "frame with the face fully in view (bench/out/visitors.json), as a stream position; "
        "a witness client that only demuxes, the stream's first client, notes when that "
        "frame's packet reached it. The row's time is events.created_at (the daemon's writer "
        "thread, at insert). The clip's start is found by picture: its first frame decodes to "
        "exactly one keyframe of the looped file.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--appearances",
        type=int,
        default=12,
        help=f"unknown appearances to measure (default 12, at least {MIN_APPEARANCES})",
    )
    parser.add_argument("--timeout", type=float, default=900, help="give up after this many s")
    args = parser.parse_args(argv)
    if args.appearances < 1:
        parser.error("--appearances must be at least 1")
    if not gst_rtsp_available():
        print(f"latency: {MISSING_HINT}", file=sys.stderr)
        return 2
    result = run_bench(args)
    text = report(result)
    REPORT_MD.write_text(text)
    REPORT_JSON.write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    print(f"latency: wrote {REPORT_MD.relative_to(ROOT)} and {REPORT_JSON.name}", file=sys.stderr)
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
