"""The soak's cameras' files: the bench's visitors scene as each kind of camera sends it.

`visitors.mp4` (bench.footage: 50 s, 720p 25 fps, an unknown woman at 5.3-11.6 s, the
known visitor at 20.3-26.6 s, unknown Biden at 35.2-41.6 s) is re-encoded, frame for
frame, with a fixed I B B B P pattern in H.264 and in HEVC (as cameras' main profiles
send it), and turned into small JPEGs for the HTTP MJPEG camera. The re-encoded files
keep every frame's time, so the scene's ground truth holds for all of them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from bench.footage.build import build
from bench.latency.loopfile import THUMB, keyframe_thumbs
from bench.paths import OUT

WORK = OUT / "chaos"
MEDIA = WORK / "media"
VERSION = 1
GOP = 50  # a keyframe every 2 s, as the bench's own footage
MJPEG_FPS = 10.0
MJPEG_SIZE = (640, 360)
Thumb = npt.NDArray[np.float32]

# kind -> (encoder, its options): None keeps visitors.mp4 as it is (x264's adaptive B-frames).
ENCODINGS: dict[str, tuple[str, dict[str, str]] | None] = {
    "h264": None,
    "bframes": ("libx264", {"x264-params": f"bframes=3:b-adapt=0:keyint={GOP}:scenecut=0"}),
    "hevc": (
        "libx265",
        {"x265-params": f"bframes=3:b-adapt=0:keyint={GOP}:scenecut=0:log-level=error"},
    ),
}


@dataclass(frozen=True)
class Visit:
    """One visitor of the scene, in seconds of the file."""

    person: str
    known: bool
    enter_s: float  # first frame showing any of the person
    arrival_s: float  # first frame with the face fully in view
    leave_s: float  # last such frame
    exit_s: float  # first frame showing none of the person


@dataclass
class Footage:
    period_s: float
    fps: float
    visits: list[Visit]
    files: dict[str, Path]  # camera kind -> its file (mjpeg: the source of its pictures)
    meta: dict[str, Any]

    def unknown(self) -> list[Visit]:
        return [v for v in self.visits if not v.known]


def _encode(source: Path, dest: Path, encoder: str, options: dict[str, str]) -> None:
    part = dest.with_suffix(".part.mp4")
    with av.open(str(source)) as inp, av.open(str(part), "w") as out:
        src = inp.streams.video[0]
        rate = src.average_rate or Fraction(25)
        stream = out.add_stream(encoder, rate=rate)
        stream.width, stream.height, stream.pix_fmt = src.width, src.height, "yuv420p"
        ctx = stream.codec_context
        ctx.gop_size, ctx.max_b_frames = GOP, 3
        ctx.options = {"preset": "fast", "crf": "23", **options}
        for i, frame in enumerate(inp.decode(src)):
            picture = frame.reformat(format="yuv420p")
            picture.pts, picture.time_base = i, 1 / rate
            picture.pict_type = av.video.frame.PictureType.NONE
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    part.replace(dest)


def count_bframes(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(f.pict_type == av.video.frame.PictureType.B for f in container.decode(video=0))


def prepare(kinds: list[str]) -> Footage:
    """Build (or reuse) visitors.mp4 and the files of the camera kinds asked for."""
    scenes = build()
    visitors = next(s for s in scenes if s.name == "visitors")
    meta = json.loads(visitors.video.with_suffix(".json").read_text())
    MEDIA.mkdir(parents=True, exist_ok=True)
    key = f"v{VERSION}:{meta['generator']}"
    stamp = MEDIA / "key.json"
    old = json.loads(stamp.read_text()) if stamp.is_file() else {}
    if old.get("key") != key:
        shutil.rmtree(MEDIA)
        MEDIA.mkdir(parents=True)
        old = {"key": key, "bframes": {}}
    files: dict[str, Path] = {}
    for kind in sorted(set(kinds)):
        spec = ENCODINGS.get(kind)
        if spec is None:  # h264 as it is; mjpeg pictures come from it too
            files[kind] = visitors.video
            continue
        dest = MEDIA / f"visitors-{kind}.mp4"
        if not dest.is_file():
            print(f"chaos: encoding {dest.name} ({spec[0]}, 3 B-frames) ...", flush=True)
            _encode(visitors.video, dest, *spec)
            old["bframes"][kind] = count_bframes(dest)
        files[kind] = dest
    stamp.write_text(json.dumps(old, indent=2) + "\n")
    visits = [
        Visit(
            str(v["person"]),
            bool(v["known"]),
            float(v["enter_s"]),
            float(v["arrival_s"]),
            float(v["leave_s"]),
            float(v["exit_s"]),
        )
        for v in meta["visits"]
    ]
    meta = {**meta, "bframes": old["bframes"]}
    return Footage(float(meta["duration_s"]), float(meta["fps"]), visits, files, meta)


def mjpeg_frames(video: Path, fps: float = MJPEG_FPS) -> list[bytes]:
    """The file as a cheap camera's JPEGs: `fps` pictures a second at 640x360."""
    frames: list[bytes] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        for i, frame in enumerate(container.decode(stream)):
            if int(i * fps / rate) < len(frames):
                continue
            picture = frame.reformat(*MJPEG_SIZE, format="bgr24").to_ndarray()
            ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
            assert ok
            frames.append(data.tobytes())
    return frames


def thumb(frame: av.VideoFrame) -> Thumb:
    grey = frame.reformat(width=THUMB[0], height=THUMB[1], format="gray").to_ndarray()
    return np.asarray(grey, dtype=np.float32)


def thumbs(video: Path) -> list[tuple[float, Thumb]]:
    """(time, small grey picture) of each keyframe of the file."""
    return keyframe_thumbs(video)


def match(picture: Thumb, table: list[tuple[float, Thumb]]) -> tuple[float, float]:
    """(time of the keyframe this picture is, mean grey difference: 0 when it is exactly it)."""
    diff, t = min((float(np.abs(picture - th).mean()), t) for t, th in table)
    return t, diff
