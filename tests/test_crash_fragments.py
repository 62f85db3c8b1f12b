"""A crash loses at most half a second of a clip, whatever the camera's keyframe interval."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import pytest

from tests.support.cli import write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import VIDEO, playable_seconds

GOP_S = 4.0  # a camera that sends a keyframe every 4 s ("smart codec" modes go to 10)


def long_gop(source: Path, dest: Path) -> Path:
    """The clip re-encoded with a keyframe every GOP_S seconds."""
    with av.open(str(source)) as inp, av.open(str(dest), "w") as out:
        stream_in = inp.streams.video[0]
        fps = round(float(stream_in.average_rate or 25))
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = stream_in.width, stream_in.height, "yuv420p"
        stream.options = {"g": str(round(GOP_S * fps)), "keyint_min": str(round(GOP_S * fps))}
        stream.options["sc_threshold"] = "0"  # no extra keyframe at the scene change
        stream.time_base = Fraction(1, fps)
        for index, frame in enumerate(inp.decode(stream_in)):
            frame.pts, frame.time_base = index, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return dest


@pytest.mark.timeout(150)
def test_sigkill_soon_after_an_event_opened_keeps_the_clip_past_its_start(
    tmp_path: Path,
) -> None:
    source = long_gop(VIDEO / "noface_face.mp4", tmp_path / "gop4.mp4")
    config = write_config(tmp_path, source=str(source))
    with Daemon(config) as daemon:
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        time.sleep(1.4)  # less than one GOP: no keyframe has closed a fragment since
        daemon.proc.kill()
        daemon.proc.wait(10)
    with Daemon(config) as daemon:
        daemon.wait_for(r"closed 1 event\(s\) left open by an earlier crash", timeout=60)
        daemon.stop()
    (row,) = [r for r in events(config) if r["id"] == opened.group(1)]
    assert row["status"] == "interrupted"
    started = datetime.fromisoformat(str(row["started_at"]))
    ended = datetime.fromisoformat(str(row["ended_at"]))
    assert ended - started >= timedelta(seconds=0.5), (started, ended)
    assert playable_seconds(row["clip"]) >= 3.0  # the pre-roll and what came after
