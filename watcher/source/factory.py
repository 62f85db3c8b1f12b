"""Turn a camera's `source:` string into a Source."""

from __future__ import annotations

from pathlib import Path

from watcher.config import is_url
from watcher.constants import DEMO_SOURCE
from watcher.source.av_source import AVSource
from watcher.source.base import Source

_V4L2_PREFIX = "/dev/video"


def open_source(source: str, *, paced: bool = True) -> Source:
    """A Source for `demo`, a URL, a V4L2 device or a video file (not yet opened).

    `paced` plays files and the demo at their own frame rate; replay turns it off.
    """
    if source == DEMO_SOURCE:
        from watcher.source.demo import DemoSource

        return DemoSource(paced=paced)
    if is_url(source):
        options = {"rtsp_transport": "tcp"} if source.startswith(("rtsp://", "rtsps://")) else {}
        return AVSource(source, paced=False, options=options)  # the network paces it
    if source.startswith(_V4L2_PREFIX):
        return AVSource(source, paced=False, fmt="v4l2")  # the device paces it
    return AVSource(str(Path(source)), paced=paced)
