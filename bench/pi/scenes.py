"""The footage: bench/footage/sizes.py's empty and one-visitor scenes, played 1 and N times.

Those scenes are short loops (empty 40 s, visitor 20 s) drawn once and encoded at
1080p and 720p with per-size sensor noise, a keyframe every 2 s, 25 fps. Each is
replayed once and N times back to back (packets copied, bench/footage/loops.py):
the difference of the two runs is N-1 loops of steady state, without watcher's
start-up and without the first seconds in which the motion gate learns the scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.footage.loops import loop_video
from bench.footage.sizes import build_sizes
from bench.pi.counts import PI_OUT

SCENES = ("empty", "visitor")
RESOLUTIONS = ("720p", "1080p")
LOOPS = 3


@dataclass(frozen=True)
class Footage:
    """One scene at one size: the file played once, and N times."""

    scene: str
    res: str
    once: Path
    looped: Path
    loops: int
    loop_s: float


def footage(scenes: list[str], resolutions: list[str], loops: int = LOOPS) -> list[Footage]:
    """Build (or reuse) the sized scenes and their looped copies."""
    files = build_sizes(scenes=scenes)
    PI_OUT.mkdir(parents=True, exist_ok=True)
    out = []
    for res in resolutions:
        for scene in scenes:
            once = files[f"{scene}_{res}"]
            looped = PI_OUT / f"{scene}_{res}_x{loops}.mp4"
            loop_s = loop_video(once, looped, loops)
            out.append(Footage(scene, res, once, looped, loops, loop_s))
    return out
