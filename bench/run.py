"""The benchmark: the decode floor, the naive face_recognition peer and watcher, side by side.

    python bench/run.py                    # all scenes, 3 repeats, medians
    python bench/run.py --repeat 5 --scenes visitors,empty --tools floor,watcher

Every measurement is its own child process (CPU = that child's user + sys, peak
RSS = its ru_maxrss), run on the same files in one run, repeats interleaved so a
noisy neighbour hurts every tool alike. Prints a Markdown table and writes it to
bench/out/results.md (with the machine and date); bench/out/results.json holds
every raw measurement and event.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import _venv  # noqa: F401  (re-runs under .venv/bin/python if needed)
import footage
from footage import OUT, ROOT, Scene, Visit
from measure import Measurement, run_measured

BENCH = ROOT / "bench"
# naive_1x: the recipe at full scale, run only where faces are too small for its 1/4.
TOOLS = ("floor", "naive", "naive_1x", "watcher")
SCENES = (
    "visitors",
    "empty",
    "single_face",
    "hamilton",
    "single_face_x25",
    "hamilton_x6",
    "startup",
)
# An event matches an unknown visitor when it starts within this window around the arrival.
EARLY_S, LATE_S = 0.5, 1.0


# --------------------------------------------------------------------------- decisions


@dataclass
class Score:
    """A tool's events judged against the ground truth."""

    expected: int
    latencies: dict[str, float] = field(default_factory=dict)  # unknown visitor -> start - arrival
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)  # unmatched events, described

    @property
    def found(self) -> int:
        return len(self.latencies)

    @property
    def correct(self) -> bool:
        return not self.missed and not self.false

    def cell(self) -> str:
        text = f"{self.found}/{self.expected}"
        if self.latencies:
            text += " (" + ", ".join(f"{v:+.2f}" for v in self.latencies.values()) + " s)"
        if self.missed:
            text += f", missed {len(self.missed)}"
        if self.false:
            text += f", {len(self.false)} false"
        return text


def _overlaps(start: float, end: float, visit: Visit) -> bool:
    lo = visit.enter_s if visit.enter_s is not None else visit.arrival_s
    hi = visit.exit_s if visit.exit_s is not None else visit.leave_s
    return start <= hi and end >= lo


def score(events: list[dict[str, Any]], visits: list[Visit]) -> Score:
    """Match events to unknown visitors: each visitor the earliest event that starts
    within [arrival - 0.5, arrival + 1.0] s. Any other event is false."""
    unknown = sorted((v for v in visits if not v.known), key=lambda v: v.arrival_s)
    result = Score(expected=len(unknown))
    pending = sorted(events, key=lambda e: float(e["start_s"]))
    for visit in unknown:
        for event in pending:
            start = float(event["start_s"])
            if visit.arrival_s - EARLY_S <= start <= visit.arrival_s + LATE_S:
                result.latencies[visit.person] = round(start - visit.arrival_s, 3)
                pending.remove(event)
                break
        else:
            result.missed.append(visit.person)
    for event in pending:
        start, end = float(event["start_s"]), float(event["end_s"])
        during = [v for v in visits if _overlaps(start, end, v)]
        if not during:
            why = "no one in view"
        else:
            why = "; ".join(
                f"during {'known' if v.known else 'unknown'} {v.person}"
                + ("" if v.known else f" ({start - v.arrival_s:+.2f} s from arrival)")
                for v in during
            )
        result.false.append(f"{start:.2f}-{end:.2f} s ({why})")
    return result


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    """One measurement of one tool on one scene."""

    scene: str
    tool: str
    repeat: int
    numbers: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None


def _command(tool: str, scene: Scene, threads: str = "NONE") -> list[str]:
    py = sys.executable
    if tool == "floor":
        return [
            py,
            str(BENCH / "floor.py"),
            str(scene.video),
            "--threads",
            threads,
            "--child",
        ]
    if tool in ("naive", "naive_1x"):
        return [
            py,
            str(BENCH / "naive.py"),
            str(scene.video),
            "--gallery",
            str(scene.gallery),
            "--threads",
            threads,
            *(["--scale", "1"] if tool == "naive_1x" else []),
            "--child",
        ]
    return [py, "-m", "watcher", "replay", str(scene.video), "-c", str(scene.config)]


def _parse(m: Measurement) -> tuple[dict[str, Any] | None, str | None]:
    if m.timed_out:
        return None, "timed out"
    if m.returncode != 0:
        tail = "\n".join(m.stderr.strip().splitlines()[-8:])
        return None, f"exit status {m.returncode}: {tail}"
    text = m.stdout
    try:
        doc: dict[str, Any] = json.loads(text[text.index("{") :])
    except ValueError:
        return None, f"unreadable output: {text[:200]!r}"
    return doc, None


def _reset_watcher_state() -> None:
    """Fresh recordings and database for the bench configs (all under bench/out)."""
    shutil.rmtree(OUT / "recordings", ignore_errors=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (OUT / f"watcher.db{suffix}").unlink(missing_ok=True)


# --------------------------------------------------------------------------- reporting


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def code_fingerprint() -> str:
    """A hash of watcher's source as it is on disk now (commits or not)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "watcher").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine_info() -> dict[str, Any]:
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "watcher")
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "watcher_commit": (_git("rev-parse", "--short", "HEAD") or "?")
        + (" + uncommitted changes in watcher/" if dirty else ""),
        "versions": {
            d: _version(d)
            for d in ("av", "dlib-bin", "face_recognition", "numpy", "opencv-python-headless")
        },
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "watcher_source_before": code_fingerprint(),
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Row:
    scene: str
    tool: str
    cpu_s: float | None
    wall_s: float | None
    peak_mb: float | None
    multi_process: bool
    runs: int
    failed: int
    score: Score | None
    decisions_vary: bool


def _applies(tool: str, scene: Scene) -> bool:
    """naive_1x only runs where the recipe's 1/4 scale cannot see the faces."""
    return tool != "naive_1x" or scene.small_faces


def summarise(runs: list[Run], scenes: list[Scene], tools: list[str]) -> list[Row]:
    rows = []
    for scene in scenes:
        for tool in tools:
            if not _applies(tool, scene):
                continue
            mine = [r for r in runs if r.scene == scene.name and r.tool == tool]
            good = [r for r in mine if r.error is None]
            scores = [
                score(r.output.get("events", []), scene.visits)
                for r in good
                if tool != "floor" and r.output is not None
            ]
            cells = {s.cell() for s in scores}
            rows.append(
                Row(
                    scene=scene.name,
                    tool=tool,
                    cpu_s=_median([r.numbers["cpu_s"] for r in good]),
                    wall_s=_median([r.numbers["wall_s"] for r in good]),
                    peak_mb=_median([r.numbers["peak_mb"] for r in good]),
                    multi_process=any(r.numbers["max_procs"] > 1 for r in good),
                    runs=len(mine),
                    failed=len(mine) - len(good),
                    score=scores[0] if scores else None,
                    decisions_vary=len(cells) > 1,
                )
            )
    return rows


def table(rows: list[Row]) -> str:
    head = (
        "| scene | tool | CPU s (median) | × floor | ÷ naive | events found / expected "
        "(arrival latency) | peak RSS MB | wall s |"
    )
    lines = [head, "|---|---|--:|--:|--:|---|--:|--:|"]
    for row in rows:
        floor = next((r for r in rows if r.scene == row.scene and r.tool == "floor"), None)
        naive = next((r for r in rows if r.scene == row.scene and r.tool == "naive"), None)
        if row.cpu_s is None:
            lines.append(
                f"| {row.scene} | {row.tool} | FAILED ({row.failed}/{row.runs}) | | | | | |"
            )
            continue
        x_floor = f"{row.cpu_s / floor.cpu_s:.2f}" if floor and floor.cpu_s else "–"
        if naive and naive.cpu_s:
            ratio = naive.cpu_s / row.cpu_s
            if row.tool == "naive":
                of_naive = "1"
            else:
                of_naive = f"1/{ratio:.1f}" if ratio >= 1 else f"{1 / ratio:.1f}×"
        else:
            of_naive = "–"
        events = "–" if row.score is None else row.score.cell()
        if row.decisions_vary:
            events += " (varies)"
        if row.failed:
            events += f" [{row.failed} failed]"
        rss = f"{row.peak_mb:.0f}" + ("†" if row.multi_process else "")
        lines.append(
            f"| {row.scene} | {row.tool} | {row.cpu_s:.2f} | {x_floor} | {of_naive} | {events} "
            f"| {rss} | {row.wall_s:.2f} |"
        )
    return "\n".join(lines)


def net_table(rows: list[Row]) -> str:
    """CPU net of each tool's start-up cost (its `startup` median), for the longer scenes."""
    startup = {r.tool: r.cpu_s for r in rows if r.scene == "startup" and r.cpu_s is not None}
    if not startup:
        return ""
    lines = [
        "| scene | tool | net CPU s | × floor (net) | ÷ naive (net) |",
        "|---|---|--:|--:|--:|",
    ]
    for row in rows:
        if row.scene == "startup" or row.cpu_s is None or row.tool not in startup:
            continue
        net = max(0.0, row.cpu_s - startup[row.tool])

        def other(tool: str, scene: str = row.scene) -> float | None:
            r = next((r for r in rows if r.scene == scene and r.tool == tool), None)
            if r is None or r.cpu_s is None or tool not in startup:
                return None
            return max(0.0, r.cpu_s - startup[tool])

        floor, naive = other("floor"), other("naive")
        x_floor = f"{net / floor:.2f}" if floor else "–"
        if row.tool == "naive":
            of_naive = "1"
        elif naive and net:
            of_naive = f"1/{naive / net:.1f}"
        else:
            of_naive = "–"
        lines.append(f"| {row.scene} | {row.tool} | {net:.2f} | {x_floor} | {of_naive} |")
    return "\n".join(lines)


LEGEND = """\
- **CPU s**: user + system CPU seconds of the tool's own child process (every
  thread, and any process it started and waited for), median of the repeats.
  Process start-up, imports and gallery loading are included; the `startup`
  scene (1 s of empty video) shows that fixed part.
- **× floor**: CPU ÷ the floor's CPU on the same file (the floor decodes every
  frame with PyAV and nothing else). Goal on `empty`: watcher ≤ 1.5.
- **÷ naive**: CPU as a fraction of the naive peer's on the same file (`1/9.0` =
  nine times cheaper; `3.0×` = three times dearer). Goals: ≤ 1/8 on `visitors`,
  ≤ 1/4 with faces in every frame (`single_face`, `hamilton`, and the same clips
  played back to back for a minute: `single_face_x25`, `hamilton_x6`).
- **naive_1x**: the naive recipe without its 1/4 scaling, run only on the Hamilton
  scenes, whose 43–108 px faces the 1/4 scale cannot see (there the recipe misses
  the unknown face and its cost is that of a blind loop).
- **events found / expected**: unknown visitors whose event starts within
  [arrival − 0.5 s, arrival + 1.0 s] / unknown visitors; the signed times are each
  found event's start minus the arrival (watcher reports the first unknown sighting
  as the event start, so its clip and event begin there even though the decision
  comes `confirm_frames` analyses later). `missed` counts unknown visitors without
  a matching event, `false` any other event (an event for a known visitor, for an
  empty scene, or a second/late one for the same visitor). "(varies)": the repeats
  disagreed; the first repeat is shown.
- **peak RSS MB**: ru_maxrss of the child, median; `†` marks a tool that ran several
  processes, where the sampled peak of the tree's summed PSS is shown if larger.
- **wall s**: elapsed time (the machine is shared: CPU is the figure to compare).
"""


def _ground_truth_md(scenes: list[Scene]) -> str:
    lines = [
        "| scene | visitor | known | fully in view (s) | face px | note |",
        "|---|---|---|---|---|---|",
    ]
    for scene in scenes:
        if not scene.visits:
            lines.append(f"| {scene.name} | (no one) | | | | {scene.note} |")
        for v in scene.visits:
            face = f"{v.face_px[0]:g}–{v.face_px[1]:g}" if v.face_px else ""
            lines.append(
                f"| {scene.name} | {v.person} | {'yes' if v.known else 'no'} | "
                f"{v.arrival_s:.2f}–{v.leave_s:.2f} | {face} | {v.note} |"
            )
    return "\n".join(lines)


def _decisions_md(runs: list[Run], scenes: list[Scene], tools: list[str]) -> str:
    lines = []
    for scene in scenes:
        for tool in tools:
            if tool == "floor":
                continue
            first = next(
                (r for r in runs if r.scene == scene.name and r.tool == tool and r.output), None
            )
            if first is None or first.output is None:
                continue
            events = first.output.get("events", [])
            s = score(events, scene.visits)
            spans = ", ".join(
                f"{float(e['start_s']):.2f}–{float(e['end_s']):.2f} s" for e in events
            )
            analysed = first.output.get("analysed_frames")
            line = f"- {scene.name} / {tool}: {len(events)} event(s)" + (
                f": {spans}" if spans else ""
            )
            if analysed is not None:
                line += f"; analysed {analysed} of {first.output.get('frames')} frames"
            for key, label in (("gated_frames", "gated by motion"), ("embeddings", "embeddings")):
                if key in first.output:
                    line += f"; {label} {first.output[key]}"
            if tool == "naive" and first.output.get("sightings"):
                line += f"; sightings {first.output['sightings']}"
            if s.missed:
                line += f"; MISSED {', '.join(s.missed)}"
            if s.false:
                line += f"; FALSE {', '.join(s.false)}"
            lines.append(line)
    return "\n".join(lines)


def goals_md(rows: list[Row]) -> str:
    """Issue 4's measurable goals, checked against this run's medians."""

    def get(scene: str, tool: str) -> Row | None:
        return next((r for r in rows if r.scene == scene and r.tool == tool), None)

    lines = []
    w, f = get("empty", "watcher"), get("empty", "floor")
    if w and f and w.cpu_s and f.cpu_s:
        x = w.cpu_s / f.cpu_s
        lines.append(f"- empty: watcher {x:.2f}× floor (goal ≤ 1.5): {_mark(x <= 1.5)}")
    for scene, goal in (
        ("visitors", 8),
        ("single_face", 4),
        ("hamilton", 4),
        ("single_face_x25", 4),
        ("hamilton_x6", 4),
    ):
        w = get(scene, "watcher")
        for peer in ("naive", "naive_1x"):
            n = get(scene, peer)
            if not (w and n and w.cpu_s and n.cpu_s):
                continue
            ratio = n.cpu_s / w.cpu_s
            if scene == "visitors":
                same = w.score is not None and w.score.correct
                decided = "every unknown visitor within 1 s, no false event"
            else:
                same = (
                    w.score is not None
                    and n.score is not None
                    and w.score.found >= n.score.found
                    and len(w.score.false) <= len(n.score.false)
                )
                decided = f"found ≥ {peer}'s, false ≤ {peer}'s"
            lines.append(
                f"- {scene}: watcher 1/{ratio:.1f} of {peer} (goal ≤ 1/{goal}): "
                f"{_mark(ratio >= goal)}; decisions ({decided}): {_mark(same)}"
            )
    peaks = [r.peak_mb for r in rows if r.tool == "watcher" and r.peak_mb is not None]
    if peaks:
        lines.append(
            f"- memory: watcher's highest peak RSS here {max(peaks):.0f} MB (goal < 350 MB for "
            "one 720p camera with 10 s of pre-roll; these runs use the config's pre-roll, "
            f"and the 30-minute soak is not run here): {_mark(max(peaks) < 350)}"
        )
    return "\n".join(lines)


def _mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(
    info: dict[str, Any],
    rows: list[Row],
    runs: list[Run],
    scenes: list[Scene],
    tools: list[str],
    repeat: int,
) -> str:
    v = info["versions"]
    changed = ""
    if info.get("watcher_source_after") != info["watcher_source_before"]:
        changed = (
            f" → {info.get('watcher_source_after')}: **watcher's source changed during the "
            "run; the medians mix versions**"
        )
    return f"""# watcher benchmark

- date: {info["date"]}
- machine: `{info["machine"]}`, {info["cpu"]}, {info["cores"]} cores, Linux {info["kernel"]}
- Python {info["python"]}; PyAV {v["av"]}, dlib-bin {v["dlib-bin"]}, \
face_recognition {v["face_recognition"]}, NumPy {v["numpy"]}, OpenCV {v["opencv-python-headless"]}
- watcher: {info["watcher_commit"]}, source hash {info["watcher_source_before"]}{changed}
- {repeat} repeat(s), medians; load average before {info["load_before"]}, \
after {info["load_after"]}; the machine is shared, so expect noise

{table(rows)}

{LEGEND}
## Goals of issue 4

{goals_md(rows)}

## Net of start-up

The same, minus each tool's median CPU on `startup` (1 s of empty 720p video:
process start, imports, models, gallery, one second of decoding) — what the tool
costs per scene once running, as a long-lived daemon pays it. Approximate: on the
2–9 s clips the remainder is close to the noise, and the startup clip's 720p
frames cost more than those clips' 360p ones.

{net_table(rows)}

## Decisions (first repeat)

{_decisions_md(runs, scenes, tools)}

## Ground truth

{_ground_truth_md(scenes)}
"""


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="measurements per cell (median)")
    parser.add_argument("--scenes", default=",".join(SCENES), help=f"from {','.join(SCENES)}")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"from {','.join(TOOLS)}")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    parser.add_argument(
        "--decode-threads",
        default="NONE",
        help="PyAV thread_type of the floor's and the naive peer's decoders (default NONE: "
        "one thread, as watcher's default decode_threads: 1; watcher itself always uses "
        "its config's decode_threads)",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the footage's dlib check")
    parser.add_argument("--force-footage", action="store_true", help="re-encode the footage")
    args = parser.parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    if unknown_tools := set(tools) - set(TOOLS):
        parser.error(f"unknown tools: {', '.join(sorted(unknown_tools))}")
    wanted = [s for s in args.scenes.split(",") if s]
    all_scenes = footage.build(force=args.force_footage, check=not args.no_verify)
    by_name = {s.name: s for s in all_scenes}
    if unknown_scenes := set(wanted) - set(by_name):
        parser.error(f"unknown scenes: {', '.join(sorted(unknown_scenes))}")
    scenes = [by_name[n] for n in wanted]
    for scene in scenes:
        if not scene.video.is_file():
            parser.error(f"{scene.name}: no video at {scene.video}")

    info = machine_info()
    info["decode_threads"] = args.decode_threads
    _reset_watcher_state()
    runs: list[Run] = []
    total = args.repeat * sum(_applies(t, s) for s in scenes for t in tools)
    started = time.monotonic()
    for rep in range(args.repeat):
        for scene in scenes:
            for tool in tools:
                if not _applies(tool, scene):
                    continue
                m = run_measured(
                    _command(tool, scene, args.decode_threads), cwd=ROOT, timeout_s=args.timeout
                )
                output, error = _parse(m)
                runs.append(Run(scene.name, tool, rep, m.summary(), output, error))
                events = (
                    ""
                    if output is None or tool == "floor"
                    else (f", {len(output.get('events', []))} event(s)")
                )
                status = (
                    f"FAILED: {error}"
                    if error
                    else (f"CPU {m.cpu_s:.2f} s, wall {m.wall_s:.2f} s, {m.peak_mb:.0f} MB{events}")
                )
                print(
                    f"[{len(runs)}/{total} {time.monotonic() - started:5.0f} s] "
                    f"{scene.name} {tool}: {status}",
                    file=sys.stderr,
                    flush=True,
                )
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    info["watcher_source_after"] = code_fingerprint()
    if info["watcher_source_after"] != info["watcher_source_before"]:
        print("WARNING: watcher's source changed during the run", file=sys.stderr)
    rows = summarise(runs, scenes, tools)
    text = report(info, rows, runs, scenes, tools, args.repeat)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "info": info,
                "repeat": args.repeat,
                "scenes": [
                    {
                        **asdict(s),
                        "video": str(s.video),
                        "config": str(s.config),
                        "gallery": str(s.gallery),
                    }
                    for s in scenes
                ],
                "runs": [asdict(r) for r in runs],
            },
            indent=1,
        )
        + "\n"
    )
    print(text)
    print(f"written: {OUT / 'results.md'} and results.json", file=sys.stderr)
    return 0 if all(r.error is None for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
