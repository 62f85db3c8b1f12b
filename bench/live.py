"""Live-daemon benchmarks: a memory soak of one camera, and CPU of several cameras in real time.

    .venv/bin/python -m bench.live soak --minutes 30      # RSS of one 720p camera, 10 s pre-roll
    .venv/bin/python -m bench.live cameras --count 4      # N 720p 25 fps cameras, empty scenes

Both run the real `watcher run` on looped files from bench/out (build them with
`python -m bench.footage`), played at their own frame rate like live cameras, and read
the daemon's CPU time and memory from /proc. Results go to stdout and to
bench/out/live-<kind>.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.paths import OUT, ROOT

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    fields = (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]).split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_mb(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_config(name: str, video: Path, cameras: int, pre_capture_s: float) -> Path:
    """A config with `cameras` cameras all looping `video` at its own frame rate."""
    folder = OUT / f"live-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "known_faces_dir: ../known_faces",
        "recordings_dir: recordings",
        "database_url: sqlite:///recordings/watcher.db",
        "log_level: WARNING",
        "status_interval_s: 0",
        f"record: {{pre_capture_s: {pre_capture_s}}}",
        "cameras:",
    ]
    for i in range(cameras):
        lines += [f"  cam{i}:", f"    source: {video}", "    loop: true"]
    path = folder / "watcher.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start(config: Path) -> subprocess.Popen[bytes]:
    """`watcher run` on a config, its log discarded."""
    return subprocess.Popen(
        [sys.executable, "-m", "watcher", "run", "-c", str(config)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def header() -> str:
    """Date and machine of a result."""
    info = Path("/proc/cpuinfo").read_text().splitlines()
    names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    cpu = names[0] if names else platform.processor()
    return (
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"- machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores\n"
    )


def soak(minutes: float, sample_s: float) -> str:
    """RSS of one 720p camera with 10 s of pre-roll over `minutes`."""
    config = write_config("soak", OUT / "visitors.mp4", 1, pre_capture_s=10)
    proc = start(config)
    warmup_s = 60.0
    time.sleep(warmup_s)
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    end = t0 + minutes * 60
    while time.monotonic() < end and proc.poll() is None:
        samples.append((time.monotonic() - t0, proc_rss_mb(proc.pid)))
        time.sleep(sample_s)
    cpu = proc_cpu_s(proc.pid) if proc.poll() is None else float("nan")
    stop(proc)
    rss = [r for _, r in samples]
    first = statistics.median(rss[:5]) if rss else float("nan")
    last = statistics.median(rss[-5:]) if rss else float("nan")
    lines = [
        "# watcher memory soak: one 720p 25 fps camera (visitors.mp4 looped), pre_capture_s 10\n",
        header(),
        f"- {minutes:g} min after a {warmup_s:.0f} s warm-up; RSS sampled every {sample_s:g} s\n",
        "| RSS at start (MiB) | RSS at end (MiB) | growth (MiB) | peak (MiB) | CPU s total |",
        "|--:|--:|--:|--:|--:|",
        f"| {first:.0f} | {last:.0f} | {last - first:+.1f} | {max(rss, default=0):.0f} "
        f"| {cpu:.0f} |",
    ]
    return "\n".join(lines) + "\n"


def cameras(count: int, seconds: float) -> str:
    """CPU share of `count` 720p 25 fps cameras with empty scenes, in real time."""
    config = write_config(f"cameras{count}", OUT / "empty.mp4", count, pre_capture_s=3)
    proc = start(config)
    time.sleep(30)  # start-up and motion backgrounds settle
    cpu0, t0 = proc_cpu_s(proc.pid), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = proc_cpu_s(proc.pid), time.monotonic()
    rss = proc_rss_mb(proc.pid)
    status = OUT / f"live-cameras{count}" / "recordings" / "status.json"
    stop(proc)
    share = (cpu1 - cpu0) / (t1 - t0) / (os.cpu_count() or 1)
    fps = status.read_text() if status.exists() else ""
    lines = [
        f"# watcher with {count} cameras, 720p 25 fps, empty scenes (looped, real time)\n",
        header(),
        f"- measured over {seconds:g} s after a 30 s warm-up\n",
        "| cameras | CPU s per s | share of all cores | RSS (MiB) |",
        "|--:|--:|--:|--:|",
        f"| {count} | {(cpu1 - cpu0) / (t1 - t0):.2f} | {share:.0%} | {rss:.0f} |",
        "",
        "Last status the daemon wrote:",
        "```json",
        fps.strip(),
        "```",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Run the chosen benchmark and write its table."""
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__)
    sub = parser.add_subparsers(dest="kind", required=True)
    s = sub.add_parser("soak")
    s.add_argument("--minutes", type=float, default=30)
    s.add_argument("--sample-s", type=float, default=30)
    c = sub.add_parser("cameras")
    c.add_argument("--count", type=int, default=4)
    c.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if not (OUT / "empty.mp4").exists() or not (OUT / "visitors.mp4").exists():
        print("build the footage first: .venv/bin/python -m bench.footage", file=sys.stderr)
        return 2
    text = (
        soak(args.minutes, args.sample_s)
        if args.kind == "soak"
        else cameras(args.count, args.seconds)
    )
    name = "soak" if args.kind == "soak" else f"cameras{args.count}"
    (OUT / f"live-{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
