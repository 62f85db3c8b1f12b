"""A clip is set up from a stream's parameters after its connection closed.

An event opened just before a camera dropped (or the daemon stopped) is set up by its
recorder from the StreamInfo of a connection that is already closed: the parameters
must outlive the input (they once were the input's own, and the process crashed).
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from tests.support.media import VIDEO, playable_seconds
from watcher.record.clip import ClipWriter
from watcher.source.av_source import AVSource


@pytest.mark.parametrize("clip", ["noface_face.mp4", "face_noface.mov"])  # H.264, H.265
def test_a_clip_is_written_from_a_closed_sources_parameters(tmp_path: Path, clip: str) -> None:
    source = AVSource(str(VIDEO / clip), paced=False)
    info = source.open()
    packets = []
    for chunk in source.chunks():
        packets += chunk.packets
        if len(packets) >= 50:
            break
    source.close()
    gc.collect()  # whatever the input owned is gone
    churn = [bytearray(1 << 16) for _ in range(256)]  # and its memory reused
    writer = ClipWriter(tmp_path / "clip.mp4", info)
    for packet in packets:
        writer.write(packet)
    writer.close()
    del churn
    assert info.template is not None and info.template.codec_context is not None
    assert playable_seconds(tmp_path / "clip.mp4") >= 1.5
