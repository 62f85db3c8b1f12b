"""One measurement: N looping RTSP cameras in one `watcher run`, its CPU, RSS and frame counts.

One loopback RTSP server process (tests/rtsp/harness.py) serves N mounts of the same
looping file, staggered (camera k of n k/n of the loop ahead, as cameras are: not all
seeing motion at once) or together; watcher watches them all as N cameras. After a
warm-up (every camera connected, then `warmup_s`), the daemon's own CPU time
(/proc/<pid>/stat, utime + stime, all threads; the server's is read too but not
counted) is read at both ends of the window, its RSS every second, and the status
file it rewrites every 10 s gives each camera's input and analysed fps, its frames
skipped and its decoded share.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.footage.sizes import video_path
from bench.live import proc_cpu_s, proc_rss_mb, stop
from bench.machine import code_fingerprint, machine_info
from bench.paths import OUT, ROOT
from tests.rtsp.harness import MultiRtspServer, numbered_mounts

WORK = OUT / "cameras"
FPS = 25.0
REAL_TIME_FPS = 24.5  # a camera's mean input rate at or above this kept up (25 fps sent)


@dataclass
class CameraRow:
    """One camera over the window, from the daemon's status file."""

    camera: str
    input_fps: float  # mean of the status samples inside the window
    analysed_fps: float
    skipped: int  # frames_skipped grown over the window
    decoded_share: float | None  # None: this watcher does not report it
    decoding: str | None


@dataclass
class Result:
    """The daemon's cost with `count` cameras of one scene, size and decoding mode."""

    count: int
    size: str
    scene: str
    decoding: str
    window_s: float
    cpu_share: float  # of all the machine's cores together
    cpu_s_per_s: float
    rss_mb: float  # the largest RSS seen in the window
    server_cpu_share: float  # the loopback server's, not counted in cpu_share
    cameras: list[CameraRow] = field(default_factory=list)
    started: str = ""
    note: str = ""
    code: str = ""  # watcher's commit and a hash of its source as run (commits or not)
    load: float = 0.0  # the machine's 1-minute load average as the window ended (shared)
    rss_start_mb: float = 0.0  # RSS as the window began: with rss_mb, whether it grows
    # "staggered": camera k of n shows the scene k/n of its loop later than the first
    # (as real cameras: not everyone's motion at once); "together": all in phase.
    arrangement: str = "together"

    @property
    def key(self) -> str:
        return f"{self.count}/{self.size}/{self.scene}/{self.decoding}/{self.arrangement}"

    @property
    def skipped(self) -> int:
        return sum(c.skipped for c in self.cameras)

    @property
    def min_input_fps(self) -> float:
        return min((c.input_fps for c in self.cameras), default=0.0)

    @property
    def skipped_per_s(self) -> float:
        """Frames skipped a second per camera (decoded, then overwritten before analysis)."""
        return self.skipped / max(1e-9, self.window_s) / max(1, self.count)

    @property
    def real_time(self) -> bool:
        """Every camera's frames came in at 25/s: capture kept up with every camera."""
        return len(self.cameras) == self.count and self.min_input_fps >= REAL_TIME_FPS

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> Result:
        rows = [CameraRow(**c) for c in d.pop("cameras", [])]
        return Result(**d, cameras=rows)


def decoding_key_supported() -> bool:
    """Whether this watcher has the camera key `decoding` (issue 15)."""
    from watcher.config.models import CameraConfig

    return "decoding" in CameraConfig.model_fields


def write_config(folder: Path, urls: list[str], decoding: str | None) -> Path:
    """watcher's defaults, `urls` as cameras cam01..., the bench gallery (one known person)."""
    lines = [
        "# Written by `python -m bench.cameras`: watcher's defaults but for `decoding`.",
        f"known_faces_dir: {OUT / 'known_faces'}",
        "recordings_dir: recordings",
        "database_url: sqlite:///watcher.db",
        "log_level: WARNING",
        "status_interval_s: 0",
        "cameras:",
    ]
    for k, url in enumerate(urls, start=1):
        lines += [f"  cam{k:02d}:", f"    source: {url}"]
        if decoding is not None:
            lines.append(f"    decoding: {decoding}")
    path = folder / "watcher.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_status(folder: Path) -> dict[str, Any] | None:
    """The status document the daemon last wrote, or None."""
    try:
        doc: dict[str, Any] = json.loads((folder / "recordings" / "status.json").read_text())
    except (OSError, ValueError):
        return None
    return doc


def _wait_connected(
    folder: Path, proc: subprocess.Popen[bytes], count: int, timeout: float
) -> None:
    """Until the status file shows every camera connected (or raise)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"watcher exited with {proc.returncode}; see {folder}/daemon.log")
        doc = read_status(folder)
        cams = doc["cameras"] if doc else []
        if len(cams) == count and all(c["connected"] for c in cams):
            return
        time.sleep(1.0)
    raise RuntimeError(f"not every camera connected within {timeout:g} s; see {folder}")


def _rows(samples: list[dict[str, Any]], first: dict[str, int]) -> list[CameraRow]:
    """Per camera: the mean rates of the window's status samples and the skipped growth."""
    by_cam: dict[str, list[dict[str, Any]]] = {}
    for doc in samples:
        for cam in doc["cameras"]:
            by_cam.setdefault(cam["camera"], []).append(cam)
    rows = []
    for name, seen in sorted(by_cam.items()):
        shares = [c["decoded_share"] for c in seen if "decoded_share" in c]
        rows.append(
            CameraRow(
                camera=name,
                input_fps=round(sum(c["input_fps"] for c in seen) / len(seen), 2),
                analysed_fps=round(sum(c["analysed_fps"] for c in seen) / len(seen), 2),
                skipped=seen[-1]["frames_skipped"] - first.get(name, 0),
                decoded_share=round(sum(shares) / len(shares), 3) if shares else None,
                decoding=seen[-1].get("decoding"),
            )
        )
    return rows


def measure(
    count: int,
    size: str,
    scene: str,
    decoding: str,
    warmup_s: float,
    window_s: float,
    stagger: bool = True,
) -> Result:
    """Run the daemon on `count` cameras of `scene` at `size` and measure the window."""
    video = video_path(scene, size)
    if not video.is_file():
        raise SystemExit(f"no {video}: build it with `python -m bench.footage.sizes`")
    keyed = decoding_key_supported()
    if decoding == "limited" and not keyed:
        raise SystemExit("this watcher has no `decoding` key: only `full` can be measured")
    arrangement = "staggered" if stagger else "together"
    folder = WORK / f"{count}-{size}-{scene}-{decoding}-{arrangement}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cores = os.cpu_count() or 1
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    mounts = numbered_mounts(video, count)
    with MultiRtspServer(mounts, loop=True, in_step=stagger, stagger=stagger) as server:
        config = write_config(folder, list(server.urls.values()), decoding if keyed else None)
        with (folder / "daemon.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "watcher", "run", "-c", str(config)],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_connected(folder, proc, count, timeout=60 + 5 * count)
            time.sleep(warmup_s)
            first_doc = read_status(folder) or {"cameras": [], "written_at": ""}
            first = {c["camera"]: c["frames_skipped"] for c in first_doc["cameras"]}
            assert server.proc is not None
            t0, cpu0 = time.monotonic(), proc_cpu_s(proc.pid)
            server0 = proc_cpu_s(server.proc.pid)
            rss_start = proc_rss_mb(proc.pid)
            rss, samples, last_written = 0.0, [], first_doc["written_at"]
            while (now := time.monotonic()) < t0 + window_s:
                if proc.poll() is not None:
                    raise RuntimeError(f"watcher exited with {proc.returncode}; see {folder}")
                rss = max(rss, proc_rss_mb(proc.pid))
                doc = read_status(folder)
                if doc is not None and doc["written_at"] != last_written:
                    last_written = doc["written_at"]
                    samples.append(doc)
                time.sleep(min(1.0, t0 + window_s - now))
            t1, cpu1 = time.monotonic(), proc_cpu_s(proc.pid)
            load = os.getloadavg()[0]
            server1 = proc_cpu_s(server.proc.pid)
            # The counters as the window ends (the status file may be up to 10 s old).
            doc = read_status(folder)
            if doc is not None and doc["written_at"] != last_written:
                samples.append(doc)
        finally:
            stop(proc)
    span = t1 - t0
    return Result(
        count=count,
        size=size,
        scene=scene,
        decoding=decoding,
        window_s=round(span, 1),
        cpu_share=round((cpu1 - cpu0) / span / cores, 4),
        cpu_s_per_s=round((cpu1 - cpu0) / span, 3),
        rss_mb=round(rss, 1),
        server_cpu_share=round((server1 - server0) / span / cores, 4),
        cameras=_rows(samples, first),
        started=started,
        note="" if keyed else "watcher without the decoding key: every frame decoded",
        code=f"{machine_info()['watcher_commit']}, source {code_fingerprint()}",
        load=round(load, 2),
        rss_start_mb=round(rss_start, 1),
        arrangement=arrangement,
    )
