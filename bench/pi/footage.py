"""1080p copies of the bench scenes (bench/out/pi/*_1080p.mp4), scaled from the 720p ones.

The bench composes its scenes at 1280x720 only. For the 1080p rows the same frames
are scaled to 1920x1080 and encoded as the bench encodes (libx264 crf/preset/keyint
of bench.footage.scenes), so watcher's counts and the decoder's work come from a
real 1080p H.264 stream. Scaled, not native: the sensor noise is smoother than a
1080p camera's, so its P-frames are somewhat cheaper than a real camera's.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import av

from bench.footage.scenes import CRF, FPS, KEYINT, PRESET
from bench.paths import OUT

PI_OUT = OUT / "pi"
SIZE_1080P = (1920, 1080)


def scaled_path(source: Path) -> Path:
    """Where the 1080p copy of `source` lives."""
    return PI_OUT / f"{source.stem}_1080p.mp4"


def make_1080p(source: Path) -> Path:
    """The 1080p copy of a 720p bench scene, encoded once (kept while newer than its source)."""
    target = scaled_path(source)
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    PI_OUT.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.stem + ".partial.mp4")
    width, height = SIZE_1080P
    started = time.monotonic()
    with av.open(str(source)) as src, av.open(str(tmp), "w") as out:
        stream = out.add_stream(
            "libx264",
            rate=FPS,
            options={
                "crf": str(CRF),
                "preset": PRESET,
                "threads": "2",  # as bench.footage: the bitstream must not depend on the cores
                "x264-params": f"keyint={KEYINT}:min-keyint={KEYINT}:scenecut=0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i, frame in enumerate(src.decode(video=0)):
            big = frame.reformat(
                width=width, height=height, format="yuv420p", interpolation="BICUBIC"
            )
            big.pts, big.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(big):
                out.mux(packet)
            if (i + 1) % (20 * FPS) == 0:
                print(
                    f"  {target.name}: {i + 1} frames ({time.monotonic() - started:.0f} s)",
                    file=sys.stderr,
                )
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(target)
    return target


if __name__ == "__main__":
    for name in sys.argv[1:] or ["empty", "visitors"]:
        print(make_1080p(OUT / f"{name}.mp4"))
