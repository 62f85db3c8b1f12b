"""A slow disk never stalls capture: the event's files are written by its recorder's thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import pytest

from tests.support.pipeline import FPS, Feed, make_pipeline
from watcher.pipeline.events import FinishedEvent
from watcher.record import clip as clip_module
from watcher.record import recorder as recorder_module
from watcher.store import StoreWriter
from watcher.worker import IDLE_BEAT_S

SLOW_PACKET_S = 0.05  # a disk that takes 50 ms for every packet (an SD card in trouble)
SLOW_JPEG_S = 0.5
FLUSH_S = 60.0
WAIT_S = 20.0


def test_a_slow_disk_never_stalls_capture_and_loses_no_packet(
    tmp_path: Path, writer: StoreWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = clip_module.ClipWriter.write

    def slow_write(self: clip_module.ClipWriter, packet: object) -> None:
        time.sleep(SLOW_PACKET_S)
        real_write(self, packet)  # type: ignore[arg-type]

    real_jpeg = recorder_module.write_jpeg

    def slow_jpeg(path: Path, rgb: object) -> None:
        time.sleep(SLOW_JPEG_S)
        real_jpeg(path, rgb)  # type: ignore[arg-type]

    monkeypatch.setattr(clip_module.ClipWriter, "write", slow_write)
    monkeypatch.setattr(recorder_module, "write_jpeg", slow_jpeg)

    finished: list[FinishedEvent] = []
    pipeline = make_pipeline(tmp_path, writer, finished, post_capture_s=30)
    pipeline.recorder.start()
    feed = Feed(pipeline)
    for _ in range(2 * FPS):  # 2 s of nobody: the pre-roll
        feed.frame(face=False)
    slowest = 0.0
    sent = 2 * FPS
    for _ in range(4 * FPS):  # 4 s of a stranger: the event opens, its files are slow
        started = time.monotonic()
        frame = feed.frame(face=True)  # the capture side: encode, buffer, hand over
        slowest = max(slowest, time.monotonic() - started)
        pipeline.analyse(frame)
        sent += 1
    assert pipeline.event is not None
    # Capture never waited on the disk: one frame takes well under one packet's write.
    assert slowest < SLOW_PACKET_S
    pipeline.end_stream()
    assert pipeline.close(FLUSH_S)
    (event,) = finished
    assert event.clip is not None
    with av.open(event.clip) as container:
        packets = sum(1 for p in container.demux(video=0) if p.size)
    # Every packet from the pre-roll's keyframe (1 s before the face) to the end.
    first = round(event.clip_start_s * FPS) if event.clip_start_s is not None else None
    assert first is not None and first <= 2 * FPS - 1 * FPS
    assert packets == sent - first
    assert event.snapshot is not None and Path(event.snapshot).is_file()


def test_a_recorder_stuck_on_the_disk_stops_beating_and_resumes(
    tmp_path: Path, writer: StoreWriter
) -> None:
    from watcher.service import Liveness

    liveness = Liveness()
    finished: list[FinishedEvent] = []
    pipeline = make_pipeline(tmp_path, writer, finished)
    recorder = pipeline.recorder
    recorder.beat = liveness.beat
    liveness.register(recorder.thread_name, 2 * IDLE_BEAT_S)
    recorder.start()
    hang = threading.Event()
    recorder._submit(lambda: hang.wait(WAIT_S))  # a write that hangs (a dead share)
    deadline = time.monotonic() + WAIT_S
    while recorder.thread_name not in liveness.stale() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert liveness.stale() == [recorder.thread_name]
    hang.set()
    while liveness.stale() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert liveness.stale() == []  # idle again: beating
    assert recorder.stop(WAIT_S)


def test_the_store_writer_beats_while_idle_and_between_retries(writer: StoreWriter) -> None:
    from watcher.service import Liveness

    liveness = Liveness()
    writer.beat = liveness.beat
    liveness.register(writer.thread_name, 2 * IDLE_BEAT_S)
    deadline = time.monotonic() + 3 * IDLE_BEAT_S
    while time.monotonic() < deadline:  # idle for longer than its limit: still alive
        assert liveness.stale() == []
        time.sleep(0.1)
