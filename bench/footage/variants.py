"""The scenes as real cameras send them: other keyframe intervals, B-frames, H.265, CBR.

    python -m bench.footage.variants           # build what is missing or stale, print packet stats
    python -m bench.footage.variants --force   # re-encode every variant

Issue 15, goal 5. `empty` and `visitors` are drawn again frame by frame (the same
seeds as bench.footage, so the same pictures) and each frame goes to every stale
variant's encoder in one pass: no variant is a re-encode of a lossy file. Every
frame keeps its time, so visitors.json's ground truth holds for all of them.
Also `empty_10min`: the empty hallway for 10 minutes, empty.mp4's packets played
five times (goal 1's replay).

Files: bench/out/variants/<scene>-<variant>.mp4 and .json (the encoding, the
generator key, the packet sizes while empty and while someone is in view).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from bench.footage.build import build, generator_key, read_meta
from bench.footage.loops import loop_video
from bench.footage.render import frames, ground_truth
from bench.footage.scenes import CRF, EMPTY_S, FPS, KEYINT, PRESET, VISITORS_S, H, W
from bench.paths import OUT

VARIANTS_DIR = OUT / "variants"
VARIANTS_VERSION = 1  # bump when an encoding below changes
LONG_LOOPS = 5  # empty.mp4 (120 s) five times: 10 minutes
# A 720p camera's usual constant bitrate; ~2x what crf 23 spends on the empty hallway,
# so the filler pads every P-frame to the same size whether or not anything moves.
CBR_KBPS = 1024
X264_FIXED = "scenecut=0"  # cameras keep their GOP; x264 would add keyframes at cuts


@dataclass(frozen=True)
class Variant:
    """One way a camera encodes: codec, keyframe interval, B-frames, rate control."""

    name: str
    what: str
    codec: str = "libx264"
    keyint_s: float = KEYINT / FPS
    bframes: int = 0  # cameras' main streams mostly send I and P only
    cbr_kbps: int | None = None
    scenes: tuple[str, ...] = ("empty", "visitors")

    @property
    def keyint(self) -> int:
        return round(self.keyint_s * FPS)

    def options(self) -> dict[str, str]:
        """The encoder's options (threads fixed: the bitstream must not depend on cores)."""
        gop = f"keyint={self.keyint}:min-keyint={self.keyint}"
        if self.codec == "bench":  # as render.encode: x264's own (adaptive) B-frames
            params = f"{gop}:{X264_FIXED}"
            return {"crf": str(CRF), "preset": PRESET, "threads": "2", "x264-params": params}
        if self.codec == "libx265":
            params = f"{gop}:scenecut=0:bframes={self.bframes}:pools=2:log-level=error"
            # x265's crf 28 is its default, the same look as x264's 23; preset fast: a
            # camera's hardware encoder is no better than that.
            return {"crf": "28", "preset": "fast", "x265-params": params}
        params = f"{gop}:{X264_FIXED}:bframes={self.bframes}"
        if self.bframes:
            # A fixed I B B P pattern, B-frames not used as references, as cameras send
            # it (x264's own default, 3 adaptive Bs with a pyramid, is the bench file's).
            params += ":b-adapt=0:b-pyramid=none"
        opts = {"preset": PRESET, "threads": "2"}
        if self.cbr_kbps is None:
            return {**opts, "crf": str(CRF), "x264-params": params}
        rate = self.cbr_kbps
        params += f":nal-hrd=cbr:bitrate={rate}:vbv-maxrate={rate}:vbv-bufsize={rate}:filler=1"
        return {**opts, "x264-params": params}

    def describe(self) -> str:
        """The encoding, in a few words."""
        if self.codec == "bench":
            return f"libx264 crf {CRF} {PRESET}, keyint {KEYINT}, x264's adaptive B-frames"
        rc = (
            f"CBR {self.cbr_kbps} kbit/s + filler"
            if self.cbr_kbps
            else "crf " + ("28 fast" if self.codec == "libx265" else f"{CRF} {PRESET}")
        )
        return (
            f"{self.codec} {rc}, keyint {self.keyint} ({self.keyint_s:g} s), bframes {self.bframes}"
        )


# "bench" is the bench's own encoding (render.encode): empty.mp4 / visitors.mp4 as they are.
BENCH = Variant("bench", "the bench's own files (x264 adaptive B-frames, 2 s GOP)", codec="bench")
VARIANTS: tuple[Variant, ...] = (
    Variant("gop1s", "keyframe every 1 s", keyint_s=1.0),
    Variant("gop2s", "keyframe every 2 s", keyint_s=2.0),
    Variant("gop4s", "keyframe every 4 s", keyint_s=4.0),
    Variant("gop10s", "keyframe every 10 s (a 'smart codec' GOP)", keyint_s=10.0),
    Variant("bframes", "B-frames: fixed I B B P, 2 s GOP", bframes=2),
    Variant("hevc", "H.265, 2 s GOP", codec="libx265"),
    Variant("cbr", f"constant bitrate {CBR_KBPS} kbit/s with filler, 2 s GOP", cbr_kbps=CBR_KBPS),
)
SCENE_SECONDS = {"empty": EMPTY_S, "visitors": VISITORS_S}


@dataclass
class VariantFile:
    """A variant's file on disk, its scene and what it shows."""

    scene: str
    variant: Variant
    video: Path
    duration_s: float
    visits: list[dict[str, Any]] = field(default_factory=list)
    packets: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """`scene-variant`: empty-gop4s, visitors-bench (the bench's own file), ..."""
        return f"{self.scene}-{self.variant.name}"


def _path(scene: str, variant: str) -> Path:
    return VARIANTS_DIR / f"{scene}-{variant}.mp4"


def _key(v: Variant, duration_s: float) -> str:
    return f"{generator_key()};variants v{VARIANTS_VERSION};{v.describe()};{duration_s:g}s"


class _Encoder:
    """One variant's encoder, written to a temporary name and moved in place when done."""

    def __init__(self, variant: Variant, path: Path) -> None:
        self.variant, self.path = variant, path
        self.tmp = path.with_name(path.stem + ".partial.mp4")
        self.out = av.open(str(self.tmp), "w")
        codec = "libx264" if variant.codec == "bench" else variant.codec
        stream = self.out.add_stream(codec, rate=FPS, options=variant.options())
        assert isinstance(stream, av.VideoStream)
        self.stream = stream
        self.stream.width, self.stream.height, self.stream.pix_fmt = W, H, "yuv420p"

    def add(self, frame: av.VideoFrame | None) -> None:
        for packet in self.stream.encode(frame):
            self.out.mux(packet)

    def close(self) -> None:
        self.add(None)
        self.out.close()
        self.tmp.replace(self.path)


def _encode_all(kind: str, duration_s: float, targets: Sequence[tuple[Variant, Path]]) -> None:
    """Draw the scene once and feed every frame to each target's encoder."""
    encoders = [_Encoder(v, p) for v, p in targets]
    total, started = round(duration_s * FPS), time.monotonic()
    for i, rgb in enumerate(frames(kind, duration_s)):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, FPS)
        for enc in encoders:
            enc.add(frame)
        if (i + 1) % (20 * FPS) == 0:
            print(
                f"  {kind} x{len(encoders)}: {(i + 1) / total:4.0%} "
                f"({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
            )
    for enc in encoders:
        enc.close()


def packet_stats(video: Path, busy: Iterable[tuple[float, float]] = ()) -> dict[str, Any]:
    """Packet sizes: keyframes, and the other frames while nothing / someone is in view."""
    spans = list(busy)
    key: list[int] = []
    quiet: list[int] = []
    moving: list[int] = []
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        tb = stream.time_base
        assert tb is not None
        for p in c.demux(stream):
            if p.size == 0 or p.pts is None:
                continue
            t = float(p.pts * tb)
            if p.is_keyframe:
                key.append(p.size)
            elif any(a <= t <= b for a, b in spans):
                moving.append(p.size)
            else:
                quiet.append(p.size)

    def _q(xs: list[int]) -> dict[str, float] | None:
        if not xs:
            return None
        qs = statistics.quantiles(xs, n=20) if len(xs) > 1 else [xs[0]] * 19
        return {"n": len(xs), "p5": qs[0], "median": statistics.median(xs), "p95": qs[-1]}

    n = len(key) + len(quiet) + len(moving)
    seconds = n / FPS
    return {
        "kbps": round(sum(key + quiet + moving) * 8 / seconds / 1000, 1) if n else 0.0,
        "keyframes": _q(key),
        "others_empty": _q(quiet),
        "others_someone_in_view": _q(moving),
    }


def _busy(visits: list[dict[str, Any]]) -> list[tuple[float, float]]:
    return [(float(v["enter_s"]), float(v["exit_s"])) for v in visits]


def _wanted() -> list[tuple[str, Variant, float]]:
    return [(s, v, SCENE_SECONDS[s]) for s in SCENE_SECONDS for v in VARIANTS if s in v.scenes]


def _visits() -> list[dict[str, Any]]:
    keys = ("person", "known", "arrival_s", "leave_s", "enter_s", "exit_s")
    return [{k: getattr(v, k) for k in keys} for v in ground_truth()]


def _describe(f: VariantFile, key: str) -> dict[str, Any]:
    """A variant file's JSON: its encoding, its ground truth and its packet sizes."""
    return {
        "key": key,
        "scene": f.scene,
        "variant": f.variant.name,
        "what": f.variant.what,
        "encoding": f.variant.describe(),
        "width": W,
        "height": H,
        "fps": FPS,
        "duration_s": f.duration_s,
        "visits": f.visits,
        "packets": packet_stats(f.video, _busy(f.visits)),
    }


def _long_empty() -> VariantFile:
    """empty.mp4's packets played LONG_LOOPS times (cached): ten minutes of empty hallway.

    A loop, not a new drawing: drawing 15,000 frames costs ~15 CPU-minutes on the
    shared 2-core machine. Every frame is empty.mp4's own; at each seam (a keyframe,
    every 120 s) the tree and the light jump once, the shadow does not (its period,
    40 s, divides 120 s).
    """
    video = VARIANTS_DIR / f"empty_10min-{BENCH.name}.mp4"
    period = loop_video(OUT / "empty.mp4", video, LONG_LOOPS)
    f = VariantFile("empty_10min", BENCH, video, LONG_LOOPS * period)
    meta_path = video.with_suffix(".stats.json")
    meta = read_meta(meta_path)
    key = f"{generator_key()};{LONG_LOOPS}x"
    if meta is None or meta.get("key") != key:
        meta = _describe(f, key)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    f.packets = meta["packets"]
    return f


def build_variants(force: bool = False, encode: bool = True) -> list[VariantFile]:
    """Encode what is missing or stale; return every variant file (plus the bench's own).

    With `encode` False nothing is encoded: only the files already built are returned.
    """
    VARIANTS_DIR.mkdir(parents=True, exist_ok=True)
    if encode:
        build(check=False)  # empty.mp4 and visitors.mp4 (cached), and the configs
    visits = _visits()
    todo: dict[tuple[str, float], list[VariantFile]] = {}
    files: list[VariantFile] = []
    for scene, v, seconds in _wanted():
        path = _path(scene, v.name)
        f = VariantFile(scene, v, path, seconds, visits if scene == "visitors" else [])
        files.append(f)
        meta = read_meta(path.with_suffix(".json"))
        if force or not path.is_file() or meta is None or meta.get("key") != _key(v, seconds):
            if encode:
                todo.setdefault((scene, seconds), []).append(f)
            files.remove(f)
        else:
            f.packets = meta["packets"]
    for (scene, seconds), group in todo.items():
        names = ", ".join(f.video.name for f in group)
        print(f"variants: encoding {names} ({seconds:g} s)", file=sys.stderr)
        for f in group:
            f.video.with_suffix(".json").unlink(missing_ok=True)
        _encode_all(scene, seconds, [(f.variant, f.video) for f in group])
        for f in group:  # written at once: an interrupted build keeps what it finished
            meta = _describe(f, _key(f.variant, seconds))
            f.video.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
            f.packets = meta["packets"]
            files.append(f)
    for scene, seconds in SCENE_SECONDS.items():
        f = VariantFile(scene, BENCH, OUT / f"{scene}.mp4", seconds)
        f.visits = visits if scene == "visitors" else []
        f.packets = packet_stats(f.video, _busy(f.visits))  # bench.footage owns its JSON
        files.append(f)
    order = [(s, v.name) for s in SCENE_SECONDS for v in (BENCH, *VARIANTS)]
    files.sort(key=lambda f: order.index((f.scene, f.variant.name)))
    return [*files, _long_empty()]


def stats_table(files: Sequence[VariantFile]) -> str:
    """Packet sizes of every file: do they follow motion? (bytes; p5 / median / p95)."""

    def cell(q: dict[str, float] | None) -> str:
        return "–" if q is None else f"{q['p5']:.0f} / {q['median']:.0f} / {q['p95']:.0f}"

    lines = [
        "| file | encoding | kbit/s | keyframes | other frames, empty "
        "| other frames, someone in view |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for f in files:
        st = f.packets
        lines.append(
            f"| {f.name} | {f.variant.describe()} | {st['kbps']:.0f} | {cell(st['keyframes'])} "
            f"| {cell(st['others_empty'])} | {cell(st['others_someone_in_view'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the variants and print their packet-size table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.footage.variants", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--force", action="store_true", help="re-encode every variant")
    args = parser.parse_args(argv)
    files = build_variants(force=args.force)
    print(stats_table(files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
