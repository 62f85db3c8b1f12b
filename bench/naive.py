"""The naive peer: face_recognition's own "webcam, faster" recipe over PyAV-decoded frames.

    python -m bench.naive VIDEO --gallery DIR            # measure in a child process
    python -m bench.naive VIDEO --gallery DIR --child    # just run (what the benchmark measures)

The recipe (examples/facerec_from_webcam_faster.py of face_recognition 1.3.0):
every other frame is scaled to 1/4, `face_locations` (HOG, the default single
upsampling) finds the faces, `face_encodings` embeds every one of them, and
`compare_faces` at the default tolerance 0.6 names them. The gallery is loaded
the recipe's way too: `load_image_file` + `face_encodings(image)[0]` per photo,
from the same known_faces/<person>/<photo> folders watcher reads.

To compare its decisions with watcher's, an "event" starts the first time an
unknown face is seen after at least `--gap` seconds (default 2) with no unknown
face; it lasts until the last unknown face before the next such gap.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import av
import cv2
import face_recognition
import numpy as np

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
SCALE = 0.25  # the recipe's; --scale 1 is the recipe where faces are too small for it
TOLERANCE = 0.6


def load_known(folder: Path) -> tuple[list[np.ndarray], list[str]]:
    """The recipe's gallery: one encoding per photo that shows a face."""
    encodings: list[np.ndarray] = []
    names: list[str] = []
    if not folder.is_dir():
        return encodings, names
    for person in sorted(p for p in folder.iterdir() if p.is_dir() and p.name[0] != "."):
        for photo in sorted(person.iterdir()):
            if photo.suffix.lower() not in IMAGE_EXTS:
                continue
            found = face_recognition.face_encodings(face_recognition.load_image_file(str(photo)))
            if found:
                encodings.append(found[0])
                names.append(person.name)
    return encodings, names


def run(
    video: Path,
    gallery: Path,
    gap_s: float = 2.0,
    thread_type: str = "NONE",
    scale: float = SCALE,
) -> dict[str, Any]:
    """Run the recipe over every frame of `video`; return its events and counts."""
    known, names = load_known(gallery)
    events: list[dict[str, Any]] = []
    last_unknown: float | None = None
    frames = processed = 0
    seen: dict[str, int] = {}
    process_this_frame = True
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        tb = stream.time_base
        origin = stream.start_time or 0
        for frame in container.decode(stream):
            frames += 1
            if process_this_frame:
                processed += 1
                t = float((frame.pts - origin) * tb) if frame.pts is not None and tb else 0.0
                rgb = frame.to_ndarray(format="rgb24")
                small = (
                    rgb
                    if scale == 1
                    else np.ascontiguousarray(cv2.resize(rgb, (0, 0), fx=scale, fy=scale))
                )
                locations = face_recognition.face_locations(small)
                encodings = face_recognition.face_encodings(small, locations)
                sightings = []
                for box, encoding in zip(locations, encodings, strict=True):
                    name: str | None = None
                    distance: float | None = None
                    if known:
                        matches = face_recognition.compare_faces(known, encoding, TOLERANCE)
                        distances = face_recognition.face_distance(known, encoding)
                        best = int(np.argmin(distances))
                        distance = float(distances[best])
                        if matches[best]:
                            name = names[best]
                    seen[name or "unknown"] = seen.get(name or "unknown", 0) + 1
                    sightings.append(
                        {
                            "t_s": round(t, 3),
                            "name": name,
                            "distance": None if distance is None else round(distance, 4),
                            "box": [round(v / scale) for v in box],  # full-frame pixels
                        }
                    )
                unknown = [s for s in sightings if s["name"] is None]
                if unknown:
                    if last_unknown is None or t - last_unknown >= gap_s:
                        events.append({"start_s": round(t, 3), "end_s": round(t, 3), "faces": []})
                    events[-1]["end_s"] = round(t, 3)
                    events[-1]["faces"].extend(unknown)
                    last_unknown = t
            process_this_frame = not process_this_frame
    return {
        "tool": "naive",
        "video": str(video),
        "gallery": sorted(set(names)),
        "frames": frames,
        "analysed_frames": processed,
        "sightings": dict(sorted(seen.items())),
        "events": events,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.naive", description=__doc__.splitlines()[0]
    )
    parser.add_argument("video", type=Path)
    parser.add_argument("--gallery", type=Path, required=True, help="known_faces/<person>/<photo>")
    parser.add_argument("--gap", type=float, default=2.0, help="empty seconds between events")
    parser.add_argument(
        "--threads", default="NONE", help="PyAV thread_type of the decoder (default: NONE)"
    )
    parser.add_argument(
        "--scale", type=float, default=SCALE, help=f"frame scale (default: the recipe's {SCALE})"
    )
    parser.add_argument("--child", action="store_true", help="run here, do not measure")
    args = parser.parse_args(argv)
    if args.child:
        json.dump(run(args.video, args.gallery, args.gap, args.threads, args.scale), sys.stdout)
        sys.stdout.write("\n")
        return 0
    from bench.measure import run_measured

    cmd = [sys.executable, "-m", "bench.naive", str(args.video), "--gallery", str(args.gallery)]
    m = run_measured(
        [*cmd, "--gap", str(args.gap), "--threads", args.threads, "--scale", str(args.scale)]
        + ["--child"]
    )
    if not m.ok:
        sys.stderr.write(m.stderr)
        return 1
    json.dump({**json.loads(m.stdout), **m.summary()}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
