"""What one operation costs on this (x86-64) machine: decoding, HOG search, embedding.

Single thread, CPU time of this process (`time.process_time`), the best of a few
repeats (the machine is shared and noisy: the least is the closest to the cost).
These are not the Pi's figures; they give the *ratios* the published Pi figures
lack (a keyframe against a P-frame, the HOG cost per searched pixel, an embedding
against a HOG frame) and the Pi/x86 ratios the estimate scales by.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import numpy.typing as npt

REPEATS = 3


def _best_cpu(run: Callable[[], object], repeats: int = REPEATS) -> float:
    """Least CPU seconds `run` took over `repeats` runs."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


@dataclass(frozen=True)
class DecodeCost:
    """Single-thread decoding of one file, split by frame type."""

    video: str
    width: int
    height: int
    packets: int
    keyframes: int
    demux_s: float  # reading every packet, decoding none
    keyframes_only_s: float  # FFmpeg skip_frame NONKEY: only the keyframes decoded
    reference_s: float  # skip_frame NONREF: what watcher's full decoding decodes
    all_frames_s: float  # every frame decoded (as the published Pi rates did)

    @property
    def per_packet_s(self) -> float:
        """Demuxing one packet."""
        return self.demux_s / self.packets

    @property
    def keyframe_s(self) -> float:
        """Decoding one keyframe (demuxing not counted)."""
        return max(self.keyframes_only_s - self.demux_s, 0.0) / self.keyframes

    @property
    def pframe_s(self) -> float:
        """One packet that is not a keyframe, as watcher decodes it (demuxing not counted).

        watcher skips non-reference frames (`skip_nonref_frames`): their packets go
        to the decoder and are dropped at once, and its `decoded_frames` counts them.
        So this is the average over every other packet, the skipped ones included.
        """
        others = self.packets - self.keyframes
        return max(self.reference_s - self.keyframes_only_s, 0.0) / others

    @property
    def mean_frame_s(self) -> float:
        """Decoding the average frame of this file (demuxing not counted)."""
        return max(self.all_frames_s - self.demux_s, 0.0) / self.packets

    def to_json(self) -> dict[str, Any]:
        """Raw figures and the derived per-frame costs."""
        return {
            **asdict(self),
            "per_packet_s": self.per_packet_s,
            "keyframe_s": self.keyframe_s,
            "pframe_s": self.pframe_s,
            "mean_frame_s": self.mean_frame_s,
            "keyframe_over_pframe": self.keyframe_s / self.pframe_s if self.pframe_s else None,
            "all_over_reference": (self.all_frames_s - self.demux_s)
            / max(self.reference_s - self.demux_s, 1e-9),
        }


def _demux(video: Path) -> tuple[int, int]:
    packets = keyframes = 0
    with av.open(str(video)) as container:
        for packet in container.demux(video=0):
            if packet.size:
                packets += 1
                keyframes += bool(packet.is_keyframe)
    return packets, keyframes


SkipFrame = Literal["NONKEY", "NONREF"]


def _decode(video: Path, skip_frame: SkipFrame | None) -> int:
    frames = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"  # one thread, as watcher's default decode_threads: 1
        if skip_frame is not None:
            stream.codec_context.skip_frame = skip_frame
        for _frame in container.decode(stream):
            frames += 1
    return frames


def decode_cost(video: Path) -> DecodeCost:
    """Measure demux-only, keyframes-only and every-frame decoding of `video`."""
    packets, keyframes = _demux(video)
    with av.open(str(video)) as container:
        ctx = container.streams.video[0].codec_context
        width, height = ctx.width, ctx.height
    return DecodeCost(
        video=video.name,
        width=width,
        height=height,
        packets=packets,
        keyframes=keyframes,
        demux_s=_best_cpu(lambda: _demux(video)),
        keyframes_only_s=_best_cpu(lambda: _decode(video, "NONKEY")),
        reference_s=_best_cpu(lambda: _decode(video, "NONREF")),
        all_frames_s=_best_cpu(lambda: _decode(video, None)),
    )


def _frame_at(video: Path, t: float) -> npt.NDArray[np.uint8]:
    """The RGB frame of `video` at media time `t` (s)."""
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= t:
                rgb = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                return rgb
    raise ValueError(f"{video}: nothing at {t} s")


@dataclass(frozen=True)
class FaceCost:
    """dlib's HOG search per pixel and the embedding per face, one thread."""

    hog_s_per_px: float  # detector(image, 0) over the pixels it was handed
    hog_sizes: list[tuple[int, int, float]]  # (width, height, seconds) measured
    face_locations_720p_s: float  # face_recognition's default: upsample 1, 1280x720
    face_locations_480p_s: float  # the same on 640x480 (OpenCV's default capture size)
    embed_s: float  # 5 landmarks + 128-d ResNet descriptor of one face

    def to_json(self) -> dict[str, Any]:
        """Every figure."""
        return asdict(self)


def face_cost(visitors: Path, face_t: float) -> FaceCost:
    """Time the HOG detector at a few sizes and one face's embedding, on a bench frame."""
    import cv2

    from watcher.faces.engine import FaceEngine

    engine = FaceEngine()
    detector = engine._detector  # noqa: SLF001 - the bare detector, as the engine calls it
    rgb = _frame_at(visitors, face_t)
    grey: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.uint8)
    sizes: list[tuple[int, int, float]] = []
    for width, height in ((640, 360), (1280, 720), (1451, 816), (1920, 1080)):
        img = cv2.resize(grey, (width, height), interpolation=cv2.INTER_LINEAR)
        sizes.append((width, height, _best_cpu(partial(detector, img, 0))))
    # Cost per pixel from the largest sizes (fixed per-call costs matter least there).
    per_px = float(np.median([s / (w * h) for w, h, s in sizes[1:]]))
    small = cv2.resize(rgb, (640, 480), interpolation=cv2.INTER_AREA)
    boxes = engine.detect(grey, 60)
    if not boxes:
        raise RuntimeError(f"no face in {visitors.name} at {face_t} s")
    return FaceCost(
        hog_s_per_px=per_px,
        hog_sizes=sizes,
        face_locations_720p_s=_best_cpu(lambda: detector(rgb, 1)),
        face_locations_480p_s=_best_cpu(lambda: detector(small, 1)),
        embed_s=_best_cpu(lambda: engine.embed_faces(rgb, boxes[:1]), repeats=5),
    )


def sysbench_events_per_s(seconds: int = 10) -> float | None:
    """sysbench 1.0's single-thread CPU score here (events/s), or None without sysbench."""
    try:
        out = subprocess.run(
            ["sysbench", "cpu", "--threads=1", f"--time={seconds}", "run"],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "events per second" in line:
            return float(line.split(":")[1])
    return None
