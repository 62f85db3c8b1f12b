"""The published per-operation figures the estimate rests on, each with its source.

Nothing here is invented: `kind` says whether a figure was published (with its
address and date), or is an assumption (with why). The figures measured on this
machine are not here: they come from measure.py at every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["published", "assumption"]


@dataclass(frozen=True)
class Figure:
    """One number, what it is, and where it comes from."""

    key: str
    value: float
    unit: str
    what: str
    source: str  # an address, or for an assumption the reason
    date: str  # when it was published ("" for an assumption)
    kind: Kind = "published"


FIGURES: tuple[Figure, ...] = (
    Figure(
        "pi4_sw_h264_1080p_fps",
        108.0,
        "frames/s",
        "Pi 4B, FFmpeg's software H.264 decoder, 1920x1080 progressive "
        "(Raspbian 2019-07-10, 32-bit; the hardware h264_v4l2m2m wrapper: 57 fps)",
        "https://github.com/raspberrypi/firmware/issues/1238",
        "2019-08-30",
    ),
    Figure(
        "pi4_sw_h264_720p_fps",
        243.0,
        "frames/s",
        "Pi 4B, the same test at 1280x720 (h264_v4l2m2m: 130 fps)",
        "https://github.com/raspberrypi/firmware/issues/1238",
        "2019-08-30",
    ),
    Figure(
        "pi4_decode_threads",
        4.0,
        "cores",
        "cores busy in that test: FFmpeg's default frame threads use every core, so "
        "CPU-s per frame = 4 / fps. If they were not all busy a frame costs less: "
        "this errs towards fewer cameras",
        "assumption: the issue does not give the CPU time, only the rate",
        "",
        "assumption",
    ),
    Figure(
        "pi4_static_1080p_decode_s",
        0.006,
        "s/frame",
        "Pi 4, a nearly static 1080p60 desktop stream, software decode (slice threads); "
        "over 0.1 s while a window is dragged. A cross-check, not used in the sums",
        "https://github.com/jc-kynesim/rpi-ffmpeg/pull/25",
        "2021-12-22",
    ),
    Figure(
        "pi_face_locations_s",
        1.353,
        "s/frame",
        "face_recognition.face_locations (dlib HOG, its default upsample 1) on a Pi "
        "under Raspberry Pi OS, Python 3.7.3; four calls, 1.3525-1.3532 s. The issue names "
        "neither the Pi model nor the frame size: taken as a Pi 4 and 1280x720 (the "
        "issue-15 reading). Were it 640x480, HOG on the Pi costs 3x what is used here",
        "https://github.com/ageitgey/face_recognition/issues/1438",
        "2022-08-08",
    ),
    Figure(
        "pi4_sysbench_1t",
        1477.83,
        "events/s",
        "Pi 4, sysbench 1.0.20 cpu --threads=1 --time=60",
        "https://leoncode.co.uk/articles/raspberry-pi-benchmarks",
        "undated (Pi 5 era, 2023 or later)",
    ),
    Figure(
        "pi5_sysbench_1t",
        2737.49,
        "events/s",
        "Pi 5, the same sysbench run: 1.85x the Pi 4 on one core",
        "https://leoncode.co.uk/articles/raspberry-pi-benchmarks",
        "undated (Pi 5 era, 2023 or later)",
    ),
    Figure(
        "pi5_over_pi4_passmark",
        1.74,
        "ratio",
        "BCM2712 (Pi 5) vs BCM2711 (Pi 4) on cpubenchmark.net: 74 % faster (cross-check)",
        "https://www.vmetrix.tech/?p=360",
        "2026-02-12",
    ),
    Figure(
        "pi5_over_pi4_sysbench_18ghz",
        2.27,
        "ratio",
        "sysbench single thread, Pi 5 1847 vs Pi 4 at 1.8 GHz 812 events/s (cross-check)",
        "https://zbotic.in/raspberry-pi-5-benchmarks-real-performance-numbers-vs-pi-4/",
        "undated (2024 or later)",
    ),
    Figure(
        "pi5_h264_hw",
        0.0,
        "decoders",
        "the Pi 5 has no H.264 decoder block (HEVC only): every H.264 frame is the CPU's",
        "https://github.com/glossyio/traffic-monitor/issues/142 ; "
        "https://github.com/TrussC-org/TrussC/pull/47",
        "2026-01-16 ; 2026-04-20",
    ),
    Figure(
        "embed_and_rest_as_hog",
        1.0,
        "x the HOG ratio",
        "the embedding (dlib's ResNet: 5 landmarks, a 150x150 chip, the forward pass) and "
        "watcher's own Python per packet are as much slower on the Pi, relative to this "
        "machine, as the HOG search is (Pi face_locations / x86 face_locations)",
        "assumption: no published Pi time of dlib's face descriptor or of this code was "
        "found; the same library on the same cores is the nearest figure",
        "",
        "assumption",
    ),
    Figure(
        "pi4_decode_as_published",
        1.0,
        "x",
        "the Pi 4 decodes this scene's average frame at the published rate (a TV-like clip "
        "of unknown bitrate); keyframes and other frames split as measured here. A camera's "
        "near-static picture is cheaper (the 6 ms cross-check): this errs towards fewer "
        "cameras. The other bound scales x86 decoding by the HOG ratio instead",
        "assumption: the test clip of the published rate is not named",
        "",
        "assumption",
    ),
    Figure(
        "usable_cores",
        3.5,
        "cores",
        "of the 4: the OS, the network stack and the writer thread keep the rest; "
        "a Pi at 100 % of 4 cores also throttles without a fan",
        "assumption (issue 15's brief)",
        "",
        "assumption",
    ),
)


def figure(key: str) -> Figure:
    """The figure named `key`."""
    for f in FIGURES:
        if f.key == key:
            return f
    raise KeyError(key)


def value(key: str) -> float:
    """The value of the figure named `key`."""
    return figure(key).value
