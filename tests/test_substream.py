"""A camera's sub-stream (`detect_source`): faces found in it, judged on the main stream.

A real two-stream loopback RTSP camera (tests/rtsp: GStreamer serving a clip at
/main and its 640x360 sub-stream at /sub, in step) and the real daemon.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import cv2
import pytest

from tests.rtsp.harness import TwoStreamCamera, require_gst_rtsp
from tests.rtsp.substream import frame_number, numbered_clip, two_stream_camera
from tests.support.cli import write_config
from tests.support.daemon import EVENT_ENDED, Daemon, events, new_event
from watcher.buffer.preroll import PrerollBuffer
from watcher.pipeline.detect import DetectReader, Epoch
from watcher.pipeline.main_picture import MainPictures
from watcher.source.av_source import AVSource
from watcher.source.base import Frame
from watcher.source.limiter import DecodeLimiter

pytestmark = pytest.mark.gstreamer
require_gst_rtsp()
__all__ = ["two_stream_camera"]  # a fixture, used by name

MAIN_SIZE = (540, 960)  # noface_face.mp4


@pytest.mark.timeout(90)
def test_faces_are_found_in_the_sub_stream_and_judged_on_the_main_one(
    tmp_path: Path, two_stream_camera: TwoStreamCamera
) -> None:
    extra = (
        f"    detect_source: {two_stream_camera.sub_url}\n"
        "    faces: {analyse_fps: 5}\n"
        "    record: {pre_capture_s: 2, post_capture_s: 2}\n"
        "status_interval_s: 0\n"
    )
    config = write_config(tmp_path, source=two_stream_camera.main_url, extra=extra)
    with Daemon(config) as daemon:
        event_id = daemon.wait_for(new_event(), timeout=45).group(1)
        daemon.wait_for(EVENT_ENDED.format(id=event_id), timeout=30)
    rows = [row for row in events(config) if row["id"] == event_id]
    assert rows, "\n".join(daemon.lines[-40:])
    row = rows[0]
    # The clip is the main stream's packets; the snapshot, its full-resolution picture.
    with av.open(str(row["clip"])) as clip:
        stream = clip.streams.video[0]
        assert (stream.height, stream.width) == MAIN_SIZE
    snapshot = cv2.imread(str(row["snapshot"]))
    assert snapshot is not None and snapshot.shape[:2] == MAIN_SIZE
    # The face crop comes from the main picture: larger than the sub-stream's whole height.
    face = cv2.imread(str(row["snapshot"]).replace(".jpg", "-face.jpg"))
    assert face is not None and face.shape[0] > 150, face.shape


@pytest.mark.timeout(60)
def test_a_sub_stream_frame_is_matched_with_the_main_picture_of_the_same_moment(
    tmp_path: Path,
) -> None:
    # Numbered clips (frame i shows i in binary), main 960x540 and sub 640x360, served in
    # step as a camera sends them, read over two connections opened a moment apart.
    main_clip = numbered_clip(tmp_path / "main.mp4", 250, 960, 540)
    sub_clip = numbered_clip(tmp_path / "sub.mp4", 250, 640, 360)
    with TwoStreamCamera(main_clip, sub_clip) as camera:
        preroll = PrerollBuffer(10.0)
        pictures = MainPictures(preroll)
        main_epoch, sub_epoch = Epoch(), Epoch()
        stop = threading.Event()
        main = AVSource(camera.main_url, paced=False, packets_only=True)
        info = main.open()
        pictures.start(info)

        def read_main() -> None:
            for chunk in main.chunks():
                now = time.monotonic()
                for packet in chunk.packets:
                    main_epoch.arrived(packet.arrival_t, now)
                    preroll.push(packet)
                if stop.is_set():
                    return

        reader = threading.Thread(target=read_main, daemon=True)
        reader.start()
        time.sleep(0.7)  # the sub-stream connects later, as a second connection does
        sub = AVSource(camera.sub_url, paced=False)
        sub.open()
        seen: list[tuple[float, int]] = []  # sub-stream frames: (time, number shown)

        def read_sub() -> None:
            for chunk in sub.chunks():
                now = time.monotonic()
                for packet in chunk.packets:
                    sub_epoch.arrived(packet.arrival_t, now)
                seen.extend((f.t, frame_number(f.image)) for f in chunk.frames)
                if stop.is_set():
                    return

        sub_reader = threading.Thread(target=read_sub, daemon=True)
        sub_reader.start()
        pairs: list[tuple[int, int]] = []
        try:
            deadline = time.monotonic() + 30
            while len(seen) < 90 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.3)  # the main stream's packets of those moments are in
            assert main_epoch.value is not None and sub_epoch.value is not None
            offset = sub_epoch.value - main_epoch.value
            for t, number in seen[30:90]:  # over a few GOPs, forwards and back
                picture = pictures.at(t + offset)
                if picture is not None:
                    pairs.append((number, frame_number(picture)))
        finally:
            stop.set()
            sub_reader.join(10)
            reader.join(10)
            sub.close()
            main.close()
    assert len(pairs) >= 50
    # Within a frame: the arrival times match the moments to 40 ms on loopback.
    off = [abs(s - m) for s, m in pairs]
    assert sorted(off)[len(off) // 2] <= 1 and max(off) <= 2, pairs


@pytest.mark.timeout(60)
def test_the_sub_streams_limiter_holds_decoding_in_the_main_streams_time(
    tmp_path: Path,
) -> None:
    """Analysis holds every-frame decoding in the main stream's time (its frames' time);
    the sub-stream's decoding is timed by its own clock. Its reader tells the limiter
    the offset, which is large once one of the two connections was opened later."""
    main_clip = numbered_clip(tmp_path / "main.mp4", 250, 960, 540)
    sub_clip = numbered_clip(tmp_path / "sub.mp4", 250, 640, 360)
    with TwoStreamCamera(main_clip, sub_clip) as camera:
        main_epoch = Epoch()
        main = AVSource(camera.main_url, paced=False, packets_only=True)
        main.open()
        stop = threading.Event()

        def read_main() -> None:
            for chunk in main.chunks():
                now = time.monotonic()
                for packet in chunk.packets:
                    main_epoch.arrived(packet.arrival_t, now)
                if stop.is_set():
                    return

        reader = threading.Thread(target=read_main, daemon=True)
        reader.start()
        time.sleep(1.5)  # the sub-stream connects later: its clock starts 1.5 s behind
        limiter = DecodeLimiter()
        delivered: list[Frame] = []
        detect = DetectReader(
            "cam",
            AVSource(camera.sub_url, paced=False, limiter=limiter),
            main_epoch,
            delivered.append,
            lambda _name: None,
            limiter,
        )
        detect.start()
        try:
            deadline = time.monotonic() + 30
            while len(delivered) < 5 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            detect.stop(10)
            stop.set()
            reader.join(10)
            main.close()
    assert len(delivered) >= 5
    offset = limiter.analysis_offset
    assert offset > 1.0, offset  # 1.5 s, less what the main stream's set-up took
    # Analysis, at a frame of main-stream time T, holds for 4 s: the sub-stream's
    # packets up to T + 4 - offset of its own time are wanted, no later ones.
    t = delivered[-1].t
    limiter.hold(t + 4.0)
    assert limiter.wants_every_frame(t + 3.9 - offset)
    assert not limiter.wants_every_frame(t + 4.1 - offset)
