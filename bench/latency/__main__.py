"""Real-time latency of a live camera: an unknown face on screen -> its event row in the database.

    python -m bench.latency                      # 12 unknown appearances (~4 min)
    python -m bench.latency --appearances 20

How it is measured: see this package's docstring (bench/latency/__init__.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.latency.daemon import CAMERA, DaemonProcess, write_config
from bench.latency.events import MATCH_EARLY_S, MATCH_LATE_S, Measured, claim_event, read_events
from bench.latency.live import (
    appearances_from,
    clean_work,
    start_witness,
    visitors_loop,
    write_report,
)
from bench.latency.loopfile import (
    LOOP_VIDEO,
    WORK,
    clip_start,
    keyframe_thumbs,
)
from bench.latency.report import MIN_APPEARANCES, REPORT_JSON, REPORT_MD, report
from bench.latency.witness import witness_position
from bench.machine import machine_info
from bench.paths import ROOT
from tests.rtsp.harness import MISSING_HINT, RtspServer, gst_rtsp_available
from watcher.config.sections import FacesConfig, RecordConfig

# An appearance is measured once the daemon has been watching this long before it.
SETTLE_S = RecordConfig().pre_capture_s + 1.0
# After the last arrival: time for its row (and a bit of its clip) before SIGTERM.
TAIL_S = 5.0


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    meta, loop, period = visitors_loop()
    thumbs = keyframe_thumbs(LOOP_VIDEO)
    pre_capture = RecordConfig().pre_capture_s

    clean_work()
    info = machine_info()
    started = time.monotonic()

    with RtspServer(LOOP_VIDEO, loop=True) as server:
        config = write_config(server.url)
        witness = start_witness(server.url, "latency")
        print(f"latency: streaming {LOOP_VIDEO.name} at {server.url}", file=sys.stderr)
        daemon = DaemonProcess(config, WORK / "daemon.log")
        try:
            connected = daemon.first("connected to rtsp://", timeout=120)
            # The appearances to measure: every one far enough after the daemon connected.
            first_pos = witness_position(witness, connected) + SETTLE_S
            todo = appearances_from(loop, period, first_pos, args.appearances)
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
        e = claim_event(events, m.arrival_wall, taken)
        if e is None:
            continue
        m.event, m.row_after_s = e["id"], e["created"] - m.arrival_wall
        if e["clip_path"]:
            clip_t, diff = clip_start(Path(e["clip_path"]), thumbs)
            lead = m.loop_s - clip_t
            clip_round = m.round if lead >= 0 else m.round - 1
            m.clip_loop_s, m.clip_match = clip_t, diff
            m.clip_lead_s = lead if lead >= 0 else lead + period
            true_wall = witness.wall(clip_round * period + clip_t)
            if e["clip_started"] is not None and true_wall is not None:
                m.clip_started_at_error_s = e["clip_started"] - true_wall
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency", description=__doc__.splitlines()[0]
    )
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
    write_report(text, result, REPORT_MD, REPORT_JSON)
    print(f"latency: wrote {REPORT_MD.relative_to(ROOT)} and {REPORT_JSON.name}", file=sys.stderr)
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
