"""Live steady-state CPU: the decode floor, watcher `full` and `limited` on one RTSP camera.

    python -m bench.decoding.live                     # empty.mp4 looped, 2 windows of 120 s
    python -m bench.decoding.live --video bench/out/variants/empty-gop10s.mp4

One loopback RTSP server (tests/rtsp/harness.py) streams the file in real time, looped;
three clients watch the same shared stream at the same time, so a busy neighbour on the
shared machine hurts them alike: a floor client (PyAV over RTSP/TCP, one decoder thread,
decodes every frame, nothing else) and two `watcher run` daemons, one per `decoding`
mode. After a warm-up, each process's CPU (/proc) is read at the ends of each window; a
window is one loop of the file (empty.mp4: 120 s, three sweeps of the shadow), so every
client pays for the same pictures. Writes bench/out/decoding-live.md and .json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av

from bench.decoding.tools import WORK, decoding_key_supported
from bench.live import header, proc_cpu_s, proc_rss_mb, stop
from bench.machine import machine_info
from bench.paths import OUT, ROOT
from tests.rtsp.harness import MISSING_HINT, RtspServer, gst_rtsp_available

GOAL_STEADY = 0.25  # issue 15, goal 1: an idle camera for a quarter of decoding it
SAMPLE_S = 10.0  # the daemon rewrites status.json every 10 s

_CONFIG = """\
# Written by `python -m bench.decoding.live`: watcher's defaults but for `decoding`.
known_faces_dir: {gallery}
recordings_dir: recordings
database_url: sqlite:///watcher.db
log_level: WARNING
cameras:
  live:
    source: {url}
{decoding}"""


def floor_client(url: str) -> None:
    """Decode every frame of the RTSP stream on one thread until killed (the live floor)."""
    with av.open(url, options={"rtsp_transport": "tcp"}) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        for _frame in container.decode(stream):
            pass


def _daemon(mode: str, url: str, keyed: bool) -> subprocess.Popen[bytes]:
    folder = WORK / f"live-{mode}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("watcher.db", "watcher.db-wal", "watcher.db-shm"):
        (folder / name).unlink(missing_ok=True)
    decoding = f"    decoding: {mode}\n" if keyed else ""
    config = folder / "watcher.yaml"
    config.write_text(_CONFIG.format(gallery=OUT / "known_faces", url=url, decoding=decoding))
    log = (folder / "daemon.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "run", "-c", str(config)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _status(mode: str) -> Any:
    try:
        return json.loads((WORK / f"live-{mode}" / "recordings" / "status.json").read_text())
    except (OSError, ValueError):
        return None


def _decoded_share(mode: str) -> float | None:
    status = _status(mode)
    try:
        return float(status["cameras"][0]["decoded_share"])
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def measure(video: Path, warmup_s: float, window_s: float, windows: int) -> dict[str, Any]:
    """CPU seconds per second of stream of each client, per window."""
    keyed = decoding_key_supported()
    modes = ["full", "limited"] if keyed else ["full"]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    cpu: dict[str, list[float]] = {}
    shares: dict[str, list[float | None]] = {mode: [] for mode in modes}
    with RtspServer(video, loop=True) as server:
        try:
            procs["floor"] = subprocess.Popen(
                [sys.executable, "-m", "bench.decoding.live", "--floor-client", server.url],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
            )
            for mode in modes:
                procs[mode] = _daemon(mode, server.url, keyed)
            time.sleep(warmup_s)
            marks = [(time.monotonic(), {k: proc_cpu_s(p.pid) for k, p in procs.items()})]
            for _ in range(windows):
                end = time.monotonic() + window_s
                while (left := end - time.monotonic()) > 0:
                    time.sleep(min(SAMPLE_S, left))
                    for mode in modes:
                        shares[mode].append(_decoded_share(mode))
                marks.append((time.monotonic(), {k: proc_cpu_s(p.pid) for k, p in procs.items()}))
            rss = {k: round(proc_rss_mb(p.pid), 1) for k, p in procs.items()}
            for k in procs:
                cpu[k] = [
                    (b[k] - a[k]) / (tb - ta)
                    for (ta, a), (tb, b) in zip(marks, marks[1:], strict=False)
                ]
            alive = {k: p.poll() is None for k, p in procs.items()}
        finally:
            for p in procs.values():
                if p.poll() is None:
                    stop(p)
    return {
        "video": str(video),
        "warmup_s": warmup_s,
        "window_s": window_s,
        "cpu_per_s": cpu,
        "rss_mb": rss,
        "alive_to_the_end": alive,
        "status": {m: _status(m) for m in modes},
        # the daemons' status.json every SAMPLE_S: decoded share over its last 10 s
        "decoded_share_samples": shares,
    }


def report(info: dict[str, Any], result: dict[str, Any]) -> str:
    """The table: CPU per second of stream, share of one core, ratio to the floor."""
    cpu = result["cpu_per_s"]
    floor = statistics.median(cpu["floor"])
    lines = [
        "# Live, one 720p 25 fps RTSP camera, empty scene: steady-state CPU (issue 15, goal 1)\n",
        header(),
        f"- watcher {info['watcher_commit']}; file {Path(result['video']).name} looped over "
        f"loopback RTSP (TCP); {result['warmup_s']:g} s warm-up, then "
        f"{len(cpu['floor'])} window(s) of {result['window_s']:g} s, all three at once; "
        "decoded: the mean of the daemon's status.json share (each over its last 10 s), "
        f"read every {SAMPLE_S:g} s\n",
        "| client | CPU s per s (windows) | median | % of one core | × floor | decoded | RSS MiB |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    shares = result.get("decoded_share_samples", {})
    for k, xs in cpu.items():
        m = statistics.median(xs)
        got = [x for x in shares.get(k, []) if x is not None]
        decoded = "100%" if k == "floor" else (f"{statistics.mean(got):.0%}" if got else "–")
        lines.append(
            f"| {k if k == 'floor' else 'watcher ' + k} | {', '.join(f'{x:.4f}' for x in xs)} "
            f"| {m:.4f} | {m:.1%} | {m / floor:.2f}× | {decoded} | {result['rss_mb'][k]:.0f} |"
        )
    if "limited" in cpu:
        x = statistics.median(cpu["limited"]) / floor
        lines.append(
            f"\nGoal 1 (live, steady state): limited {x:.2f}× the floor (≤ {GOAL_STEADY}×): "
            f"**{'met' if x <= GOAL_STEADY else 'NOT met'}**"
        )
    if not all(result["alive_to_the_end"].values()):
        lines.append(f"\n**A client died early**: {result['alive_to_the_end']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the live measurement (or, with --floor-client, be the floor's client)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.decoding.live", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--video", type=Path, default=OUT / "empty.mp4")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=120.0, help="seconds per window")
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument("--floor-client", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_client:
        floor_client(args.floor_client)
        return 0
    if not gst_rtsp_available():
        print(f"decoding.live: {MISSING_HINT}", file=sys.stderr)
        return 2
    info = machine_info()
    result = measure(args.video, args.warmup, args.window, args.windows)
    text = report(info, result)
    (OUT / "decoding-live.md").write_text(text)
    (OUT / "decoding-live.json").write_text(json.dumps({"info": info, **result}, indent=2) + "\n")
    print(text)
    return 0 if all(result["alive_to_the_end"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
