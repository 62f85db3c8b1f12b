"""The real media the tests read (../shared/media beside the project) and clips made of it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from watcher.constants import MP4_OPTIONS

ROOT = Path(__file__).resolve().parent.parent.parent
MEDIA = (ROOT.parent / "shared" / "media").resolve()
FACES = MEDIA / "faces"
STILLS = MEDIA / "stills"
VIDEO = MEDIA / "video"


def looped_video(source: Path, repeats: int, dest: Path) -> Path:
    """`source` played `repeats` times in a row, remuxed (not re-encoded) into `dest`."""
    with av.open(str(source)) as first:
        template = first.streams.video[0]
        with av.open(str(dest), "w") as out:
            stream = out.add_stream_from_template(template)
            for play in range(repeats):
                with av.open(str(source)) as src:
                    packets = [p for p in src.demux(src.streams.video[0]) if p.dts is not None]
                    # One play: from its first frame shown to the end of its last.
                    first = min(p.pts for p in packets)
                    length = max(p.pts + (p.duration or 0) for p in packets) - first
                    for packet in packets:
                        packet.pts += play * length
                        packet.dts += play * length
                        packet.stream = stream
                        out.mux(packet)
    return dest


def play_length_s(source: Path) -> float:
    """Seconds from the first frame shown to the end of the last (one play in looped_video)."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.dts is not None]
        length = max(p.pts + (p.duration or 0) for p in packets) - min(p.pts for p in packets)
        return float(length * (stream.time_base or 0))


def make_clip(path: Path, source: Path = VIDEO / "noface_face.mp4") -> Path:
    """Remux real footage into a fragmented MP4 exactly as the recorder writes clips."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        av.open(str(source)) as src,
        av.open(str(path), mode="w", format="mp4", options=dict(MP4_OPTIONS)) as out,
    ):
        stream = src.streams.video[0]
        target = out.add_stream_from_template(stream)
        for packet in src.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = target
            out.mux(packet)
    return path


def packet_span(path: Path) -> tuple[int, float]:
    """Packets of a clip FFmpeg opens cleanly, and seconds from its first to its last frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = stream.time_base or Fraction(1, 90000)
        times = [
            float(p.pts * base)
            for p in container.demux(stream)
            if p.dts is not None and p.pts is not None and not p.is_corrupt
        ]
    return len(times), max(times) - min(times)


def clip_frames(path: str) -> tuple[int, float]:
    """Decode a clip completely: (frames, duration in seconds). Fails if it does not play."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
    assert times, f"{path} has no decodable frame"
    return len(times), max(times) - min(times)


def playable_seconds(path: object) -> float:
    """Decode the whole clip; its length in seconds."""
    with av.open(str(path)) as container:
        times = [float(f.time) for f in container.decode(video=0) if f.time is not None]
    assert len(times) > 5, f"{path}: {len(times)} frames"
    return max(times) - min(times)
