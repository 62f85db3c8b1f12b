"""`watcher replay` of the shared clips on this host and in the arm64 root; events compared.

    python -m bench.arm64 --root /var/tmp/watcher-arm64     # as bench/arm64/run.sh runs it

run.sh makes the root, mounts the media in it and installs the tree there; this module
only replays and compares. Both sides run the same tree (the copy in the root), each
with its own fresh work folder: the media's faces/ as the gallery (obama, biden,
lin_manuel_miranda, alex_lacamoire), the tests' config (tolerance 0.6, pre-capture 3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import av

from bench.arm64.compare import Verdict, compare, identities
from bench.measure import Measurement, run_measured
from bench.paths import MEDIA, OUT

CONFIG = (
    "known_faces_dir: known_faces\n"
    "recordings_dir: recordings\n"
    "database_url: sqlite:///recordings/watcher.db\n"
    "faces:\n  tolerance: 0.6\n"
    "record:\n  pre_capture_s: 3\n  post_capture_s: 2\n"
    "cameras:\n  cam:\n    source: demo\n"
)
# Emulation is 10-40x slower than native: generous, but a hung replay still ends.
TIMEOUT_S = 3600.0


def clip_info(path: Path) -> tuple[float, float]:
    """(seconds, seconds per frame) of a clip's video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        base = stream.time_base
        seconds = float(stream.duration * base) if stream.duration and base else 0.0
        if not seconds and container.duration:
            seconds = container.duration / 1_000_000
    return seconds, 1.0 / rate


def make_work(folder: Path, faces: Path) -> Path:
    """A fresh work folder: config, and the gallery of faces/ (`PERSON_N.ext`); its config."""
    shutil.rmtree(folder, ignore_errors=True)
    for photo in sorted(faces.iterdir()):
        person = photo.stem.rsplit("_", 1)[0]
        (folder / "known_faces" / person).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, folder / "known_faces" / person / photo.name)
    config = folder / "watcher.yaml"
    config.write_text(CONFIG)
    return config


class Side:
    """One machine's way of running `watcher` over the same tree."""

    def __init__(self, name: str, prefix: list[str], cwd: Path | None, env: dict[str, str]):
        self.name, self.prefix, self.cwd, self.env = name, prefix, cwd, env

    def run(self, *args: str) -> Measurement:
        """`watcher ARGS` on this side, measured."""
        cmd = [*self.prefix, "-m", "watcher", *args]
        return run_measured(cmd, cwd=self.cwd, env=self.env, timeout_s=TIMEOUT_S)


def sides(args: argparse.Namespace) -> tuple[Side, Side]:
    """x86-64: the host venv's Python in the tree's copy; arm64: the root's venv via chroot."""
    src = args.root / args.src.lstrip("/")
    # cwd = the tree: `-m watcher` imports it before the host venv's editable install.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    x86 = Side("x86-64", [sys.executable], src, env)
    clean = ["/usr/bin/env", "-i", "HOME=/root", "LANG=C.UTF-8", "PATH=/usr/bin:/bin"]
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    arm = Side("arm64", [chroot, str(args.root), *clean, f"{args.venv}/bin/python"], None, env)
    return x86, arm


def replay(side: Side, config: str, video: str) -> tuple[dict[str, Any], Measurement]:
    """One replay: its JSON document and what it cost."""
    m = side.run("replay", video, "-c", config)
    if not m.ok:
        raise SystemExit(f"{side.name} replay of {video} failed:\n{m.stderr[-3000:]}")
    doc: dict[str, Any] = json.loads(m.stdout)
    return doc, m


def events_cell(doc: dict[str, Any]) -> str:
    """`n: start s who, ...` for the table."""
    if not doc["events"]:
        return "0"
    each = ", ".join(f"{e['start_s']:.2f} s {'+'.join(identities(e))}" for e in doc["events"])
    return f"{len(doc['events'])}: {each}"


def costs(x86: Measurement, arm: Measurement) -> str:
    """The table's cost cells: wall and CPU seconds on each side, and the CPU ratio."""
    ratio = f"{arm.cpu_s / x86.cpu_s:.0f}×" if x86.cpu_s else "–"
    return f"| {x86.wall_s:.1f} | {arm.wall_s:.1f} | {x86.cpu_s:.1f} | {arm.cpu_s:.1f} | {ratio} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.arm64", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/var/tmp/watcher-arm64"))
    parser.add_argument("--media", type=Path, default=MEDIA, help="the media, on the host")
    parser.add_argument("--media-in-root", default="/srv/media", help="the media, in the root")
    parser.add_argument("--src", default="/opt/watcher/src", help="the tree, in the root")
    parser.add_argument("--venv", default="/opt/watcher/venv", help="the venv, in the root")
    parser.add_argument("--out", type=Path, default=OUT / "arm64")
    parser.add_argument("--clips", help="comma-separated names in video/ (default: all)")
    parser.add_argument("--frames", type=int, default=2, help="start-time slack, in frames")
    args = parser.parse_args(argv)

    videos = sorted(p for p in (args.media / "video").iterdir() if p.is_file())
    if args.clips:
        wanted = set(args.clips.split(","))
        videos = [v for v in videos if v.name in wanted]
    info = {v: clip_info(v) for v in videos}
    videos.sort(key=lambda v: info[v][0])  # shortest first: a cut-short run says most

    x86, arm = sides(args)
    work = args.root / "opt" / "watcher" / "work"
    make_work(work / "arm64", args.media / "faces")
    configs = {
        x86.name: str(make_work(work / "x86_64", args.media / "faces")),
        arm.name: "/opt/watcher/work/arm64/watcher.yaml",  # the same folder, seen from the root
    }
    rows: list[dict[str, Any]] = []
    # The gallery first (six photos embedded, then cached): its cost is not the first clip's.
    gallery: dict[str, Measurement] = {}
    for side in (x86, arm):
        m = gallery[side.name] = side.run("faces", "list", "-c", configs[side.name])
        if not m.ok:
            raise SystemExit(f"{side.name} faces list failed:\n{m.stderr[-3000:]}")
        print(f"gallery on {side.name}: {m.wall_s:.1f} s wall", file=sys.stderr)
        rows.append({"clip": "(gallery)", "side": side.name, **m.summary()})
    gallery_row = ["| (gallery: 6 photos, `faces list`) | | | | | | " + costs(*gallery.values())]

    table = [
        "| clip | length | events x86-64 | events arm64 | same? | start gap | distance gap "
        "| wall s x86-64 | wall s arm64 (qemu) | CPU s x86-64 | CPU s arm64 (qemu) | CPU ÷ |",
        "|---|--:|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
        *gallery_row,
    ]
    verdicts: list[Verdict] = []
    for video in videos:
        seconds, frame_s = info[video]
        ours, m_x86 = replay(x86, configs[x86.name], str(video))
        print(f"{video.name}: x86-64 {m_x86.wall_s:.1f} s; arm64 ...", file=sys.stderr)
        start = time.monotonic()
        theirs, m_arm = replay(arm, configs[arm.name], f"{args.media_in_root}/video/{video.name}")
        print(f"{video.name}: arm64 {time.monotonic() - start:.1f} s", file=sys.stderr)
        v = compare(ours, theirs, frame_s, args.frames)
        verdicts.append(v)
        same = "yes" if v.same else "**no**: " + "; ".join(v.differences)
        table.append(
            f"| {video.name} | {seconds:.1f} s | {events_cell(ours)} | {events_cell(theirs)} "
            f"| {same} | {v.max_start_gap_s:.3f} s | {v.max_distance_gap:.4f} "
            + costs(m_x86, m_arm)
        )
        for side, doc, m in ((x86, ours, m_x86), (arm, theirs, m_arm)):
            rows.append({"clip": video.name, "side": side.name, "doc": doc, **m.summary()})
        rows.append({"clip": video.name, "verdict": asdict(v)})

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = "\n".join([f"Run {stamp}", *table, ""])
    (args.out / "results.md").write_text(text)
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    print(text)
    print(f"all the same: {all(v.same for v in verdicts)}  ({args.out}/results.*)")
    return 0 if all(v.same for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
