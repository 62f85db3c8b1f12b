"""Long "faces in every frame" footage: a short clip of ../shared/media played N times.

The media's face clips last 2-9 s, so one run of them measures mostly each tool's
start-up. Played back to back (packets copied, timestamps shifted: no re-encoding,
so every frame is the original's), they give a minute of the same scene, where
what a tool pays per second of video shows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av


def _key(src: Path, loops: int) -> str:
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:12]
    return f"{src.name}={digest}x{loops}"


def loop_video(src: Path, dst: Path, loops: int) -> float:
    """Write `src`'s video `loops` times into `dst` (cached); return one loop's seconds."""
    meta_path = dst.with_suffix(".json")
    key = _key(src, loops)
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        meta = {}
    if dst.is_file() and meta.get("key") == key:
        return float(meta["period_s"])
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        packets = [p for p in inp.demux(stream) if p.size > 0]
        # One play, in the stream's time base: first frame shown to the end of the last.
        shown = [p for p in packets if p.pts is not None]
        period = max(p.pts + (p.duration or 0) for p in shown) - min(p.pts for p in shown)
        period_s = float(period * stream.time_base)
        target = out.add_stream_from_template(stream)
        for k in range(loops):
            # Fresh packets for every play: muxing rewrites a packet's times in place.
            with av.open(str(src)) as play:
                for p in play.demux(play.streams.video[0]):
                    if p.size == 0:
                        continue
                    p.stream = target
                    if p.pts is not None:
                        p.pts += k * period
                    if p.dts is not None:
                        p.dts += k * period
                    out.mux(p)
    meta_path.write_text(json.dumps({"key": key, "period_s": period_s, "loops": loops}) + "\n")
    return period_s
