"""The bench's empty and one-visitor scenes at camera sizes: 1080p, 720p and a 640x360 sub-stream.

For issue 15: many cameras (bench/cameras) and a camera's two streams (goal 6).
The scene is drawn at the bench's 1280x720 (the same hallway, tree, light and
visitor cut-out as bench/footage/render.py), scaled to each size, and only then
given its sensor noise, so that every size has per-pixel noise like a real sensor
(noise scaled up from 720p would be smooth and compress unlike a camera's).
All sizes come from the same drawn frames, so a main stream and its sub-stream
show the same scene at the same time; every size has the same frame count and a
keyframe every 2 s at the same frames. The scenes are short and meant to loop:

    python -m bench.footage.sizes            # build what is missing or stale
    python -m bench.footage.sizes --force    # rebuild

Written to bench/out/sizes/<scene>_<size>.mp4, each with a .json beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from bench.footage.build import generator_key, read_meta
from bench.footage.cutouts import composite, cutout, pose_at
from bench.footage.hallway import WINDOW, hallway
from bench.footage.render import _light, _shadow
from bench.footage.scenes import CRF, FPS, KEYINT, NOISE_SIGMA, PRESET, SEED, VISITORS, H, W
from bench.paths import OUT, ROOT

SIZES_VERSION = 1
FOLDER = OUT / "sizes"
SIZES: dict[str, tuple[int, int]] = {
    "1080p": (1920, 1080),
    "720p": (1280, 720),
    "360p": (640, 360),  # the sub-stream NVRs analyse
}
# The unknown woman of the `visitors` scene, walking in 3 s after the start.
VISITOR = replace(VISITORS[0], enter_s=3.0)


@dataclass(frozen=True)
class LoopScene:
    """A short scene that loops: its kind (as render.frames draws it) and length."""

    name: str
    kind: str  # "empty" (wind in the tree, a sweeping shadow) or "visitors" (still)
    duration_s: float  # a whole number of GOPs, so that every loop starts on a keyframe
    note: str


SCENES: dict[str, LoopScene] = {
    "empty": LoopScene(
        "empty", "empty", 40.0, "nobody; wind in the tree, one 40 s shadow sweep a loop"
    ),
    "visitor": LoopScene(
        "visitor",
        "visitors",
        20.0,
        f"still hallway; one unknown visitor in view from about {VISITOR.enter_s + 0.9:g} "
        f"to {VISITOR.exit_s - 0.9:g} s of each 20 s loop",
    ),
}


def video_path(scene: str, size: str) -> Path:
    """Where one scene at one size is kept."""
    return FOLDER / f"{scene}_{size}.mp4"


def _drawn(scene: LoopScene) -> Iterator[np.ndarray]:
    """The scene's frames at 1280x720, float32 RGB, before any sensor noise."""
    rng = np.random.default_rng(SEED)
    background, view = hallway(rng)
    visitors = [(VISITOR, cutout(VISITOR))] if scene.kind == "visitors" else []
    x0, y0, x1, y1 = WINDOW
    for i in range(round(scene.duration_s * FPS)):
        t = i / FPS
        frame = background.copy()
        if scene.kind == "empty":
            frame[y0:y1, x0:x1][view.glass] = view.render(t, 1.0)[view.glass]
        for v, cut in visitors:
            pose = pose_at(v, cut, t)
            if pose is not None:
                composite(frame, cut, pose)
        frame *= _light(t)
        if scene.kind == "empty":
            frame *= _shadow(t)
        yield frame


def _noisy(frame: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The drawn frame scaled to `size`, with sensor noise at that size, as 8-bit RGB."""
    width, height = size
    if (width, height) != (W, H):
        shrink = width < W
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        frame = cv2.resize(frame, (width, height), interpolation=interpolation)
    else:
        frame = frame.copy()
    frame += rng.standard_normal((height, width, 3), dtype=np.float32) * NOISE_SIGMA
    np.clip(frame, 0, 255, out=frame)
    return frame.astype(np.uint8)


def _key() -> str:
    return f"sizes v{SIZES_VERSION}; {generator_key()}"


def _fresh(scene: str, size: str) -> bool:
    meta = read_meta(video_path(scene, size).with_suffix(".json"))
    return video_path(scene, size).is_file() and meta is not None and meta.get("key") == _key()


def _encode(scene: LoopScene, sizes: list[str]) -> None:
    """Draw the scene once and encode it at every size in `sizes` side by side."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    # A name of this process's own: two builds at once never write the same file.
    tmps = {s: video_path(scene.name, s).with_suffix(f".{os.getpid()}.partial.mp4") for s in sizes}
    outs = {s: av.open(str(tmps[s]), "w") for s in sizes}
    streams = {}
    for s in sizes:
        stream = outs[s].add_stream(
            "libx264",
            rate=FPS,
            options={
                "crf": str(CRF),
                "preset": PRESET,
                "threads": "2",  # fixed, so the bitstream does not depend on the core count
                "x264-params": f"keyint={KEYINT}:min-keyint={KEYINT}:scenecut=0",
            },
        )
        stream.width, stream.height = SIZES[s]
        stream.pix_fmt = "yuv420p"
        streams[s] = stream
    rngs = {s: np.random.default_rng([SEED, 3, k]) for k, s in enumerate(SIZES) if s in sizes}
    total, started = round(scene.duration_s * FPS), time.monotonic()
    try:
        for i, drawn in enumerate(_drawn(scene)):
            for s in sizes:
                rgb = _noisy(drawn, SIZES[s], rngs[s])
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, FPS)
                for packet in streams[s].encode(frame):
                    outs[s].mux(packet)
            if (i + 1) % (5 * FPS) == 0:
                took = time.monotonic() - started
                print(f"  {scene.name}: {(i + 1) / total:4.0%} ({took:.0f} s)", file=sys.stderr)
        for s in sizes:
            for packet in streams[s].encode():
                outs[s].mux(packet)
    finally:
        for out in outs.values():
            out.close()
    for s in sizes:
        tmps[s].replace(video_path(scene.name, s))
        width, height = SIZES[s]
        meta: dict[str, Any] = {
            "key": _key(),
            "scene": scene.name,
            "size": s,
            "width": width,
            "height": height,
            "fps": FPS,
            "duration_s": scene.duration_s,
            "frames": total,
            "encoding": f"libx264 crf {CRF} preset {PRESET}, keyint {KEYINT}, yuv420p",
            "note": scene.note,
            "visitor": asdict(VISITOR) if scene.kind == "visitors" else None,
        }
        video_path(scene.name, s).with_suffix(".json").write_text(json.dumps(meta, indent=2))


def build_sizes(force: bool = False, scenes: list[str] | None = None) -> dict[str, Path]:
    """Make (or reuse) every scene at every size; return `<scene>_<size>` -> its file."""
    out = {}
    for name in scenes or list(SCENES):
        stale = [s for s in SIZES if force or not _fresh(name, s)]
        if stale:
            where = video_path(name, "*").relative_to(ROOT)
            print(f"footage: encoding {where} at {', '.join(stale)}", file=sys.stderr)
            _encode(SCENES[name], stale)
        out.update({f"{name}_{s}": video_path(name, s) for s in SIZES})
    return out


def main(argv: list[str] | None = None) -> int:
    """Build the sized footage and list it."""
    parser = argparse.ArgumentParser(prog="python -m bench.footage.sizes", description=__doc__)
    parser.add_argument("--force", action="store_true", help="re-encode even if cached")
    parser.add_argument("--scene", action="append", choices=list(SCENES), help="only these")
    args = parser.parse_args(argv)
    for name, path in build_sizes(args.force, args.scene).items():
        size = path.stat().st_size
        print(f"{name}: {path.relative_to(ROOT)} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
