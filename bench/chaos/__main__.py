"""A seeded, bounded chaos soak of `watcher run` over loopback cameras.

    python -m bench.chaos                                  # 30 minutes, 3 cameras
    python -m bench.chaos --minutes 3 --seed 7 --cameras 4

How it works: see this package's docstring (bench/chaos/__init__.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

from bench.chaos import audit, report
from bench.chaos.daemon import Watcher, snapshot
from bench.chaos.disk import Disk
from bench.chaos.faults import Chaos, Fault
from bench.chaos.footage import MJPEG_FPS, WORK, mjpeg_frames, prepare, thumbs
from bench.chaos.mjpeg import MjpegCamera
from bench.chaos.rtsp import RtspCamera
from bench.chaos.timing import fault_times
from bench.chaos.truth import appearances
from bench.machine import machine_info
from bench.paths import OUT, ROOT
from tests.rtsp.harness import MISSING_HINT, gst_rtsp_available

ORDER = ("bframes", "hevc", "mjpeg", "h264")  # camera kinds, in the order --cameras takes them
TAIL_S = 60.0  # no fault starts in the last minute: the last recoveries are seen
RUN = WORK / "run"
REPORT_MD, REPORT_JSON = OUT / "chaos.md", OUT / "chaos.json"


def camera_kinds(n: int) -> list[tuple[str, str]]:
    """(name, kind) of n cameras: bframes, hevc, mjpeg, h264, bframes2, ..."""
    out = []
    for i in range(n):
        kind = ORDER[i % len(ORDER)]
        out.append((kind if i < len(ORDER) else f"{kind}{i // len(ORDER) + 1}", kind))
    return out


def write_config(path: Path, recordings: Path, gallery: Path, sources: dict[str, str]) -> None:
    cams = "".join(f"  {name}:\n    source: {url}\n" for name, url in sources.items())
    path.write_text(
        "# Written by bench.chaos: watcher's default faces/record settings; the database in\n"
        "# the recordings folder (the default layout), so a full disk is full for it too.\n"
        f"known_faces_dir: {gallery}\n"
        f"recordings_dir: {recordings}\n"
        f"database_url: sqlite:///{recordings}/watcher.db\n"
        "status_interval_s: 60\n"
        "retention:\n"
        "  min_free_gb: 0   # the soak fills the disk itself; events must not be purged for it\n"
        f"cameras:\n{cams}"
    )


def soak(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    kinds = camera_kinds(args.cameras)
    footage = prepare([k for _, k in kinds])
    for sub in ("code", "known_faces"):
        shutil.rmtree(RUN / sub, ignore_errors=True)
    RUN.mkdir(parents=True, exist_ok=True)
    for name in ("watcher.log", "watcher.db"):
        (RUN / name).unlink(missing_ok=True)
    commit = snapshot(RUN / "code")
    gallery = RUN / "known_faces"
    shutil.copytree(
        OUT / "known_faces", gallery, symlinks=False, ignore=shutil.ignore_patterns(".*")
    )
    disk = Disk(RUN / "disk", args.disk_mb)
    disk.setup()
    info = machine_info()
    rtsp: list[RtspCamera] = []
    mjpeg: list[MjpegCamera] = []
    watcher: Watcher | None = None
    deaths: list[Fault] = []
    try:
        tables = {}
        for i, (name, kind) in enumerate(kinds):
            if kind == "mjpeg":
                frames = mjpeg_frames(footage.files["mjpeg"])
                cam_m = MjpegCamera(name, frames, MJPEG_FPS, args.seed * 1000 + i)
                cam_m.start()
                mjpeg.append(cam_m)
                continue
            file = footage.files[kind]
            if file not in tables:
                tables[file] = thumbs(file)
            cam = RtspCamera(name, kind, file, tables[file])
            cam.start()
            rtsp.append(cam)
        sources = {c.name: c.url for c in [*rtsp, *mjpeg]}
        config = RUN / "watcher.yaml"
        write_config(config, disk.mount, gallery, sources)
        watcher = Watcher(RUN / "code", config, RUN / "watcher.log", args.log_level)
        w = watcher

        def pause(seconds: float) -> None:
            deadline = time.time() + seconds
            while (left := deadline - time.time()) > 0:
                time.sleep(min(left, 0.5))
                life = w.lives[-1]
                if not w.check() and life.how.endswith("(by itself)"):
                    now = time.time()
                    deaths.append(Fault("watcher_died", "watcher", now, now, life.how))
                    print(f"chaos: watcher exited by itself ({life.how}); started again")
                    w.start()

        started = time.time()
        end = started + args.minutes * 60
        watcher.start()
        print(f"chaos: seed {args.seed}, {args.minutes:g} min, cameras {sources}", flush=True)
        print(f"chaos: recordings on {disk.kind}; watcher {commit} from {RUN / 'code'}", flush=True)
        chaos = Chaos(rng, watcher, rtsp, mjpeg, disk, pause)
        while True:
            gap = chaos.gap()
            if time.time() + gap >= end - TAIL_S:
                break
            pause(gap)
            fault = chaos.one(end - TAIL_S - time.time())
            if fault is not None:
                print(
                    f"chaos: +{fault.start - started:6.0f} s {fault.kind} {fault.target} "
                    f"{fault.detail}",
                    flush=True,
                )
        pause(max(0.0, end - time.time()))
        stopped = time.time()
        final = watcher.signal(signal.SIGTERM)
        print(f"chaos: stopped watcher: exit {final.exit_code} ({final.how})", flush=True)
    except BaseException:
        disk.teardown()
        raise
    finally:
        for c in [*rtsp, *mjpeg]:
            c.close()
        if watcher is not None:
            watcher.close()
    assert watcher is not None
    db = disk.mount / "watcher.db"
    print("chaos: auditing (every clip is decoded) ...", flush=True)
    rows, named, integrity = audit.read_rows(db)
    apps = appearances(footage, rtsp, mjpeg, watcher.lines, chaos.faults, stopped)
    extra = audit.match(apps, rows, audit.decisions(watcher.lines))
    clips = audit.clips(rows)
    orphans = audit.orphans(disk.mount, rows, named)
    times = fault_times(chaos.faults, watcher.lines, list(sources))
    figures = report.figures(
        apps, rows, extra, clips, orphans, integrity, times, watcher.lives, watcher.lines
    )
    shutil.copy2(db, RUN / "watcher.db")
    for bad in figures["unplayable"]:
        if Path(bad["clip"]).is_file():
            shutil.copy2(bad["clip"], RUN / Path(bad["clip"]).name)
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "info": info,
        "seed": args.seed,
        "minutes": args.minutes,
        "started": started,
        "stopped": stopped,
        "watcher_commit": commit,
        "cameras": {c.name: {"kind": c.kind, "url": c.url} for c in [*rtsp, *mjpeg]},
        "bframes": footage.meta.get("bframes", {}),
        "disk": disk.kind,
        "final_exit": final.exit_code,
        "deaths": [vars(d) for d in deaths],
        "figures": figures,
        "faults": times,
        "witness": {
            c.name: [
                {
                    "opened": s.opened,
                    "packets": len(s.packets),
                    "base": s.base,
                    "diff": s.match_diff,
                }
                for s in c.witness.sessions
            ]
            for c in rtsp
        },
        "appearances": [vars(a) | {"expected": a.expected} for a in apps],
        "events": [{k: v for k, v in r.items() if k != "decision"} for r in rows],
        "_disk": disk,
        "_keep": args.keep,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--minutes", type=float, default=30, help="length of the soak (default 30)")
    parser.add_argument("--seed", type=int, default=None, help="the faults' seed (default: random)")
    parser.add_argument("--cameras", type=int, default=3, help="cameras, from " + ", ".join(ORDER))
    parser.add_argument("--disk-mb", type=int, default=512, help="size of the recordings tmpfs")
    parser.add_argument("--log-level", default="INFO", help="watcher's log level (default INFO)")
    parser.add_argument("--keep", action="store_true", help="leave the tmpfs mounted after")
    args = parser.parse_args(argv)
    if args.cameras < 1 or args.minutes <= 0:
        parser.error("--cameras and --minutes must be positive")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(100_000)
    if not gst_rtsp_available():
        print(f"chaos: {MISSING_HINT}", file=sys.stderr)
        return 2
    result = soak(args)
    disk = result.pop("_disk")
    keep = result.pop("_keep")
    try:
        text = report.markdown(result)
        REPORT_MD.write_text(text)
        REPORT_JSON.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(text)
        print(f"chaos: wrote {REPORT_MD.relative_to(ROOT)} and {REPORT_JSON.name}", flush=True)
    finally:
        if not keep:
            disk.teardown()
    f = result["figures"]
    bad = f["lost"] or f["tracebacks"] or f["unplayable"] or f["left_open"] or result["deaths"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
