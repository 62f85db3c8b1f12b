"""One RTSP server process serving many mounts (issue 15): cameras, or a camera's two streams.

Checked with a real client (PyAV over TCP, as the daemon reads): every mount serves
its own file, each loops on its own, and a two-stream camera's main and sub-stream
show the same frame at the same moment whenever each is connected ("in step"),
which a plain pair of mounts does not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.rtsp.harness import (
    MultiRtspServer,
    RtspServer,
    TwoStreamCamera,
    numbered_mounts,
    require_gst_rtsp,
)
from tests.rtsp.substream import frame_number, numbered_clip, substream
from tests.rtsp.substream import two_stream_camera as two_stream_camera  # a fixture

pytestmark = pytest.mark.gstreamer
require_gst_rtsp()

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "video"
WIDE = VIDEO / "noface_face.mp4"  # H.264 960x540, 25 fps
SMALL = VIDEO / "single_face.mp4"  # H.264 640x360, 30 fps


def frames_of(url: str, count: int) -> Iterator[tuple[float, av.VideoFrame]]:
    """The first `count` decoded frames of a stream, each with its arrival (monotonic s)."""
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10.0, 5.0)) as container:
        seen = 0
        for packet in container.demux(container.streams.video[0]):
            arrived = time.monotonic()
            for frame in packet.decode():
                yield arrived, frame
                seen += 1
                if seen >= count:
                    return
    raise AssertionError(f"{url} ended after {seen} frames")


def read_in_thread(
    url: str, count: int, out: list[tuple[float, int]], delay: float
) -> threading.Thread:
    """Start reading `url` after `delay` s: (arrival, frame number) of numbered frames."""

    def run() -> None:
        time.sleep(delay)
        out.extend((t, frame_number(f)) for t, f in frames_of(url, count))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.timeout(40)
def test_one_process_serves_each_mount_its_own_file() -> None:
    with MultiRtspServer({"/wide": WIDE, "small": SMALL}) as server:
        assert server.urls == {
            "/wide": f"rtsp://127.0.0.1:{server.port}/wide",
            "/small": f"rtsp://127.0.0.1:{server.port}/small",
        }
        wide = [f for _, f in frames_of(server.url_of("wide"), 5)]
        small = [f for _, f in frames_of(server.url_of("/small"), 5)]
        pid = server.proc.pid if server.proc else None
    assert {(f.width, f.height) for f in wide} == {(960, 540)}
    assert {(f.width, f.height) for f in small} == {(640, 360)}
    assert pid is not None
    with pytest.raises(KeyError, match="no mount /other"):
        server.url_of("/other")


def test_numbered_mounts_sort_and_share_one_file() -> None:
    mounts = numbered_mounts(WIDE, 16)
    assert list(mounts) == sorted(mounts) == [f"/cam{k:02d}" for k in range(1, 17)]
    assert set(mounts.values()) == {WIDE}


@pytest.mark.timeout(60)
def test_every_mount_loops_on_its_own(tmp_path: Path) -> None:
    clip = numbered_clip(tmp_path / "n.mp4", 40, 160, 96)  # 1.6 s, keyframe each 1 s
    got: dict[str, list[tuple[float, int]]] = {}
    with MultiRtspServer(numbered_mounts(clip, 3), loop=True) as server:
        threads = []
        for k, url in enumerate(server.urls.values()):
            got[url] = []
            threads.append(read_in_thread(url, 100, got[url], delay=0.4 * k))  # 2.5 plays
        for thread in threads:
            thread.join(timeout=30)
    for url, frames in got.items():
        numbers = [n for _, n in frames]
        assert len(numbers) == 100, url
        # Each mount started its file afresh and plays 0..39 over and over, no frame lost.
        assert numbers == [k % 40 for k in range(100)], url


@pytest.mark.timeout(20)
def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no such file"):
        MultiRtspServer({"/a": WIDE, "/b": tmp_path / "missing.mp4"}).start(timeout=10)
    with pytest.raises(ValueError, match="in_step needs loop"):
        MultiRtspServer({"/a": WIDE}, in_step=True)


def offsets(main: list[tuple[float, int]], sub: list[tuple[float, int]], count: int) -> list[int]:
    """Per sub-stream frame, its number minus that of the main frame that arrived nearest."""
    out = []
    # Past the first 1.8 s of the later connection: FFmpeg reads about a second of
    # packets while it opens the stream, and hands them over at once.
    for arrived, number in sub[45:]:
        nearest = min(main, key=lambda m: abs(m[0] - arrived))
        out.append((number - nearest[1] + count // 2) % count - count // 2)
    return out


def read_two_streams(camera: MultiRtspServer, main: str, sub: str, frames: int = 100) -> list[int]:
    main_frames: list[tuple[float, int]] = []
    sub_frames: list[tuple[float, int]] = []
    # The sub-stream is connected 1.3 s after the main one: out of step, the two
    # would show frames 32 apart; a real camera's show the same moment.
    threads = [
        read_in_thread(camera.url_of(main), 150, main_frames, delay=0.0),
        read_in_thread(camera.url_of(sub), 90, sub_frames, delay=1.3),
    ]
    for thread in threads:
        thread.join(timeout=30)
    assert len(main_frames) == 150 and len(sub_frames) == 90
    return offsets(main_frames, sub_frames, frames)


@pytest.mark.timeout(90)
def test_a_two_stream_camera_shows_the_same_frame_on_both(tmp_path: Path) -> None:
    main = numbered_clip(tmp_path / "main.mp4", 100, 320, 180)  # 4 s, keyframe each 1 s
    sub = substream(main, tmp_path / "sub.mp4", 160, 96)
    with TwoStreamCamera(main, sub) as camera:
        assert camera.main_url.endswith("/main") and camera.sub_url.endswith("/sub")
        in_step = read_two_streams(camera, "/main", "/sub")
    # Frame for frame, give or take one (arrival jitter between two connections).
    assert max(abs(d) for d in in_step) <= 1, in_step
    # The control: two plain looping mounts start each at its own first client.
    with MultiRtspServer({"/main": main, "/sub": sub}, loop=True) as plain:
        apart = read_two_streams(plain, "/main", "/sub")
    assert min(abs(d) for d in apart) >= 20, apart


@pytest.mark.timeout(60)
def test_staggered_mounts_each_show_their_own_moment(tmp_path: Path) -> None:
    clip = numbered_clip(tmp_path / "n.mp4", 100, 160, 96)  # 4 s, keyframe each 1 s
    with MultiRtspServer(numbered_mounts(clip, 4), loop=True, in_step=True, stagger=True) as s:
        # Mount 2 of 4 is a quarter of the file (25 frames) ahead of mount 1.
        ahead = read_two_streams(s, "/cam01", "/cam02")
    assert all(24 <= d <= 26 for d in ahead), ahead
    with pytest.raises(ValueError, match="stagger needs in_step"):
        MultiRtspServer({"/a": clip}, loop=True, stagger=True)


@pytest.mark.timeout(60)
def test_the_media_clip_and_its_sub_stream_match(tmp_path: Path) -> None:
    sub = substream(WIDE, tmp_path / "sub.mp4")
    with av.open(str(WIDE)) as a, av.open(str(sub)) as b:
        wide = [(f.pts, f.key_frame) for f in a.decode(video=0)]
        small = list(b.decode(video=0))
    assert [(f.pts, f.key_frame) for f in small] == wide
    assert {(f.width, f.height) for f in small} == {(640, 360)}


def test_the_single_mount_server_keeps_its_command() -> None:
    server = RtspServer(WIDE, 8554, path="cam", loop=True)
    assert server.command()[2:] == [
        "--port",
        "8554",
        "--file",
        str(WIDE.resolve()),  # the server is given the real path (media may be a symlink)
        "--path",
        "/cam",
        "--loop",
    ]


@pytest.mark.timeout(60)
def test_the_two_stream_fixture_serves_the_clip_and_its_sub_stream(
    two_stream_camera: TwoStreamCamera,
) -> None:
    main = [f for _, f in frames_of(two_stream_camera.main_url, 3)]
    sub = [f for _, f in frames_of(two_stream_camera.sub_url, 3)]
    assert {(f.width, f.height) for f in main} == {(960, 540)}
    assert {(f.width, f.height) for f in sub} == {(640, 360)}
    assert main[0].key_frame and sub[0].key_frame
