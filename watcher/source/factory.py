"""Turn a camera's config into a Source."""

from __future__ import annotations

from watcher.config import CameraConfig, is_url
from watcher.constants import DEMO_SOURCE
from watcher.source.av_source import AVSource
from watcher.source.base import Source
from watcher.source.limiter import DecodeLimiter

_V4L2_PREFIX = "/dev/video"
_RTSP_SCHEMES = ("rtsp://", "rtsps://")


def open_detect_source(camera: CameraConfig, limiter: DecodeLimiter | None = None) -> Source:
    """The camera's sub-stream to analyse (`detect_source`, a URL or file; not yet opened)."""
    assert camera.detect_source is not None
    return open_source(camera, limiter, url=camera.detect_source)


def open_source(
    camera: CameraConfig, limiter: DecodeLimiter | None = None, *, url: str | None = None
) -> Source:
    """A Source for the camera's `demo`, URL, V4L2 device or video file (not yet opened).

    `limiter` (the camera pipeline's, when its decoding is limited) decides which
    frames of an H.264/H.265 input are decoded; a USB camera is always decoded in full.
    A camera with a `detect_source` reads its main `source` for its packets only.
    """
    source = camera.source if url is None else url
    packets_only = url is None and camera.detect_source is not None
    if packets_only:
        limiter = None
    timeouts = (camera.open_timeout_s, camera.read_timeout_s)
    skip = camera.skip_nonref_frames
    threads = camera.decode_threads
    if source == DEMO_SOURCE:
        from watcher.source.demo import DemoSource

        return DemoSource()
    if is_url(source):
        options: dict[str, str] = {}
        if source.lower().startswith(_RTSP_SCHEMES):
            options["rtsp_transport"] = str(camera.rtsp_transport)
        # The network paces it: no sleeping on our side.
        return AVSource(
            source,
            paced=False,
            options=options,
            timeouts=timeouts,
            skip_nonref=skip,
            decode_threads=threads,
            limiter=limiter,
            packets_only=packets_only,
        )
    if source.startswith(_V4L2_PREFIX):
        device_options = {
            key: value
            for key, value in (
                ("video_size", camera.video_size),
                ("framerate", None if camera.fps is None else f"{camera.fps:g}"),
                ("input_format", camera.input_format),
            )
            if value is not None
        }
        return AVSource(
            source,
            paced=False,
            fmt="v4l2",
            options=device_options,
            timeouts=timeouts,
            decode_threads=threads,
        )
    return AVSource(
        source,
        paced=True,
        timeouts=timeouts,
        skip_nonref=skip,
        decode_threads=threads,
        limiter=limiter,
        packets_only=packets_only,
    )


def is_finite(camera: CameraConfig) -> bool:
    """True when the camera is a video file that ends (and is not looped)."""
    source = camera.source
    finite = source != DEMO_SOURCE and not is_url(source) and not source.startswith(_V4L2_PREFIX)
    return finite and not camera.loop
