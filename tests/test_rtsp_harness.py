"""The RTSP test server, checked with a real client (PyAV over TCP, as the daemon reads).

Also pins down what a reconnecting source relies on: a killed server ends the demux
iterator (EOF, no exception) and then refuses at once; a frozen one makes a read raise
av.error.ExitError once PyAV's read timeout has passed twice (one late packet comes
after the first); the first packet of a connection has no pts; a fresh stream's
timestamps start at zero, a joined one's where the stream is; SPS/PPS come as
extradata from the SDP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import av
import av.container
import pytest

from tests.rtsp.harness import RtspServer, free_port, require_gst_rtsp

pytestmark = pytest.mark.gstreamer
require_gst_rtsp()  # skips this module, saying what to install, where it cannot run

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "video"
CLIP = VIDEO / "noface_face.mp4"  # H.264 960x540, 25 fps, 159 frames (6.36 s)
FRAME = 3600  # one frame at 25 fps in RTP's 90 kHz time base
READ_TIMEOUT_S = 2.0


def connect(url: str, read_timeout: float = 5.0) -> av.container.InputContainer:
    return av.open(url, options={"rtsp_transport": "tcp"}, timeout=(5.0, read_timeout))


def packets(container: av.container.InputContainer) -> Iterator[av.Packet]:
    """The video packets with data (the demuxer ends with an empty flush packet)."""
    for packet in container.demux(container.streams.video[0]):
        if packet.size:
            yield packet


def decode(stream: Iterator[av.Packet], count: int) -> list[av.VideoFrame]:
    frames: list[av.VideoFrame] = []
    for packet in stream:
        frames += packet.decode()
        if len(frames) >= count:
            return frames
    raise AssertionError(f"the stream ended after {len(frames)} frames")


@pytest.mark.timeout(30)
def test_streams_the_file_as_h264_over_rtsp() -> None:
    with RtspServer(CLIP) as server, connect(server.url) as container:
        assert server.url == f"rtsp://127.0.0.1:{server.port}/stream"
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (960, 540)
        # SPS/PPS from the SDP (Annex B), so a clip can be remuxed into MP4.
        extradata = stream.codec_context.extradata
        assert extradata is not None and extradata[:4] == b"\x00\x00\x00\x01"
        frames = decode(packets(container), 25)
        rest = list(packets(container))  # without loop, the file's end is EOF
    assert frames[0].key_frame
    assert {(f.width, f.height) for f in frames} == {(960, 540)}
    assert len(frames) + len(rest) <= 159 + 1


@pytest.mark.timeout(40)
def test_kill_ends_the_stream_and_restart_serves_the_same_url() -> None:
    with RtspServer(CLIP, loop=True) as server:
        port = server.port
        with connect(server.url) as container:
            stream = packets(container)
            first = [next(stream) for _ in range(30)]
            server.kill()
            started = time.monotonic()
            rest = list(stream)  # a dropped connection is EOF: the iterator just ends
            assert time.monotonic() - started < 5
            assert len(rest) < 60

        started = time.monotonic()
        with pytest.raises(ConnectionRefusedError):  # av.error.ConnectionRefusedError
            connect(server.url)
        assert time.monotonic() - started < 2

        server.restart()
        assert server.port == port
        with connect(server.url) as container:
            stream = packets(container)
            again = [next(stream) for _ in range(30)]
    # A fresh stream starts at zero again; the first packet of a connection has no pts.
    assert first[0].pts is None and again[0].pts is None
    assert (
        [p.pts for p in again[1:4]] == [p.pts for p in first[1:4]] == [FRAME, 2 * FRAME, 3 * FRAME]
    )


@pytest.mark.timeout(40)
def test_freeze_is_noticed_by_the_read_timeout_and_resume_streams_again() -> None:
    with RtspServer(CLIP, loop=True) as server:
        with connect(server.url, read_timeout=READ_TIMEOUT_S) as container:
            stream = packets(container)
            for _ in range(30):
                next(stream)
            server.freeze()
            started = time.monotonic()
            with pytest.raises(av.error.ExitError):  # "Immediate exit requested"
                for _ in stream:
                    assert time.monotonic() - started < 4 * READ_TIMEOUT_S
            waited = time.monotonic() - started
        # The first timeout yields one late packet; the second raises: about twice it.
        assert READ_TIMEOUT_S <= waited < 3 * READ_TIMEOUT_S + 1

        server.resume()
        with connect(server.url) as container:
            assert len(decode(packets(container), 25)) >= 25


@pytest.mark.timeout(40)
def test_loop_plays_past_the_end_and_a_second_client_joins_the_same_stream() -> None:
    with RtspServer(CLIP, loop=True) as server:
        started = time.monotonic()
        with connect(server.url) as container:
            stream = packets(container)
            pts = [next(stream).pts for _ in range(100)]
            with connect(server.url) as joiner:  # like a camera: no rewind, no restart
                joined = decode(packets(joiner), 5)
            pts += [next(stream).pts for _ in range(100)]  # 200 frames: 8 s at 25 fps
        elapsed = time.monotonic() - started
    assert 6.0 < elapsed < 20  # real time, not a burst: ~1 s of probing, then 25 fps
    stamped = [t for t in pts if t is not None]
    assert len(stamped) == 199
    assert all(b - a == FRAME for a, b in pairwise(stamped))  # past 6.36 s, no jump back
    # The joiner decodes from a key frame on, with timestamps where the stream was.
    assert joined[0].key_frame
    assert joined[0].pts is not None and joined[0].pts > 50 * FRAME


@pytest.mark.timeout(30)
def test_the_server_is_always_reaped_and_failures_say_why(tmp_path: Path) -> None:
    with RtspServer(CLIP) as server:
        proc = server.proc
        assert proc is not None
        server.freeze()
    assert proc.poll() is not None  # __exit__ killed it although it was stopped
    assert server.proc is None

    with RtspServer(CLIP, free_port()) as first:
        first.freeze()
        first.stop()  # SIGTERM reaches a frozen server too
        assert not first.running
        first.start()
        with pytest.raises(RuntimeError, match="cannot listen"):
            RtspServer(CLIP, first.port).start(timeout=10)
    with pytest.raises(RuntimeError, match="no such file"):
        RtspServer(tmp_path / "missing.mp4").start(timeout=10)
