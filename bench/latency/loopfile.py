"""The looped camera: the unknown visitors of visitors.mp4 back to back, and its keyframes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from bench.paths import OUT

WORK = OUT / "latency"
LOOP_VIDEO = WORK / "visitors-loop.mp4"
LOOP_META = WORK / "visitors-loop.json"
LOOP_VERSION = 2
# Cut each unknown visitor out with this much empty hallway around them (seconds,
# widened to keyframes): room for the pre-roll and for the event to end before the next.
BEFORE_S, AFTER_S = 4.0, 4.0
THUMB = (160, 90)
Thumb = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Appearance:
    """An unknown visitor in one round of the looped file."""

    visitor: str
    loop_s: float  # arrival (first frame with the face fully in view), in the loop file
    round: int

    def position(self, period: float) -> float:
        return self.round * period + self.loop_s


def _keyframe_times(video: Path) -> list[float]:
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        tb = stream.time_base
        assert tb is not None
        return [float(p.pts * tb) for p in c.demux(stream) if p.is_keyframe and p.pts is not None]


def build_loop(source: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The unknown visitors of visitors.mp4 back to back: the looped camera's file."""
    key = f"v{LOOP_VERSION}:{meta['generator']}:{BEFORE_S}:{AFTER_S}"
    old = read_json(LOOP_META)
    if old is not None and old.get("key") == key and LOOP_VIDEO.is_file():
        return old
    keys = sorted(set(_keyframe_times(source)))
    segments: list[tuple[float, float, dict[str, Any]]] = []
    for visit in meta["visits"]:
        if visit["known"]:
            continue
        start = max(k for k in keys if k <= visit["enter_s"] - BEFORE_S)
        end = min((k for k in keys if k >= visit["exit_s"] + AFTER_S), default=meta["duration_s"])
        segments.append((start, end, visit))
    WORK.mkdir(parents=True, exist_ok=True)
    arrivals: list[dict[str, Any]] = []
    frames = 0
    with av.open(str(source)) as src, av.open(str(LOOP_VIDEO), "w") as out:
        template = src.streams.video[0]
        tb = template.time_base
        assert tb is not None
        stream = out.add_stream_from_template(template)
        offset = 0  # output so far, in the stream's time base
        for start, end, visit in segments:
            first = round(start / tb)
            shift = offset - first
            length = round((end - start) / tb)
            src.seek(first, stream=template, backward=True, any_frame=False)
            for packet in src.demux(template):
                if packet.dts is None or packet.pts is None or packet.pts < first:
                    continue
                closing = packet.is_keyframe and packet.pts >= round(end / tb)
                if closing:  # the next keyframe ends the segment as a one-frame GOP
                    length = packet.pts - first + (packet.duration or round(1 / (25 * tb)))
                packet.pts += shift
                packet.dts += shift
                packet.stream = stream
                out.mux(packet)
                frames += 1
                if closing:
                    break
            arrivals.append(
                {
                    "visitor": visit["person"],
                    "loop_s": round(float(offset * tb) + visit["arrival_s"] - start, 3),
                    "source_s": visit["arrival_s"],
                    "segment": [start, end],
                }
            )
            offset += length
    rate = meta["fps"]
    loop = {
        "key": key,
        "video": LOOP_VIDEO.name,
        "source": source.name,
        "frames": frames,
        "fps": rate,
        "period_s": frames / rate,
        "arrivals": arrivals,
    }
    LOOP_META.write_text(json.dumps(loop, indent=2) + "\n")
    return loop


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def _thumb(frame: av.VideoFrame) -> Thumb:
    grey = frame.reformat(width=THUMB[0], height=THUMB[1], format="gray").to_ndarray()
    return np.asarray(grey, dtype=np.float32)


def keyframe_thumbs(video: Path) -> list[tuple[float, Thumb]]:
    """Each keyframe of the file: its time and a small grey picture of it."""
    out: list[tuple[float, Thumb]] = []
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in c.decode(stream):
            out.append((float(frame.time or 0.0), _thumb(frame)))
    return out


def clip_start(clip: Path, thumbs: list[tuple[float, Thumb]]) -> tuple[float, float]:
    """(time in the looped file of the clip's first frame, mean difference of the match)."""
    with av.open(str(clip)) as c:
        first = next(iter(c.decode(video=0)))
        picture = _thumb(first)
    diffs = [(float(np.abs(picture - thumb).mean()), t) for t, thumb in thumbs]
    diff, t = min(diffs)
    return t, diff
