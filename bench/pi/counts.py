"""watcher's own counts per scene from the replay JSON, with `decoding: limited` or `full`.

`decoded_frames` and `searched_pixels` are read from the replay JSON when watcher
prints them. Until it does (and for a watcher without the camera key `decoding`)
they are estimated here, and every estimated count is named in `estimated`:

* decoded frames, full decoding: every frame (an upper bound: watcher skips
  non-reference frames by default);
* decoded frames, limited decoding: the keyframes, plus every frame of the spans in
  which analysis was not gated (something moved), at the camera's frame rate;
* searched pixels: each analysed frame not gated searched whole, at the detector's
  scale (HOG_WINDOW_PX / min_face_px)^2: an upper bound, the planner searches only
  the regions that moved. (`python -m bench.pi` counts the pixels handed to dlib
  itself, inproc.py: the JSON's `searched_pixels` are the regions in source pixels.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.paths import OUT
from bench.pi.estimate import Counts

MODES = ("limited", "full")
PI_OUT = OUT / "pi"


def decoding_key_supported() -> bool:
    """Whether this watcher's camera config has the `decoding` key (limited / full)."""
    from watcher.config.models import CameraConfig

    return "decoding" in CameraConfig.model_fields


def write_config(mode: str, with_key: bool) -> Path:
    """The bench's replay config with the camera's `decoding` set to `mode`."""
    PI_OUT.mkdir(parents=True, exist_ok=True)
    path = PI_OUT / f"watcher-{mode}.yaml"
    key = f"    decoding: {mode}\n" if with_key else ""
    path.write_text(
        "# Written by `python -m bench.pi`: the bench's config (bench/out/watcher.yaml),\n"
        f"# decoding: {mode}. base_dir is this folder (bench/out/pi).\n"
        f"known_faces_dir: {OUT / 'known_faces'}\n"
        "recordings_dir: recordings\n"
        "database_url: sqlite:///watcher.db\n"
        "log_level: WARNING\n"
        "cameras:\n"
        "  bench:\n"
        "    source: demo\n" + key
    )
    return path


def counts_of(
    doc: dict[str, Any],
    mode: str,
    keyframes: int,
    size: tuple[int, int],
    fps: float,
    detector_scale: float,
    analyse_fps: float,
) -> tuple[Counts, list[str]]:
    """Totals over the file from the replay JSON; the estimated ones named."""
    estimated: list[str] = []
    frames = int(doc["frames"])
    searching = max(int(doc["analysed_frames"]) - int(doc.get("gated_frames", 0)), 0)
    decoded = doc.get("decoded_frames")
    if decoded is None:
        estimated.append("decoded_frames")
        if mode == "full":
            decoded = frames
        else:
            # Each analysed frame that was searched stands for 1/analyse_fps s of
            # video decoded at the full rate (the catch-up and the frames after it).
            decoded = min(frames, keyframes + round(searching * fps / analyse_fps))
    searched = doc.get("searched_pixels")
    if searched is None:
        estimated.append("searched_pixels")
        width, height = size
        searched = searching * width * height * detector_scale**2
    # Limited decoding leaves some keyframes undecoded while its cue sees (the replay
    # JSON's thinned_keyframes): only the decoded ones cost a keyframe's decoding.
    thinned = int(doc.get("decoding", {}).get("thinned_keyframes", 0)) if mode == "limited" else 0
    return (
        Counts(
            packets=frames,
            keyframes=max(keyframes - thinned, 0),
            decoded=float(decoded),
            searched_px=float(searched),
            embeddings=float(doc["embeddings"]),
        ),
        estimated,
    )
