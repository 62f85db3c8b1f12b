"""`watcher replay`: the live pipeline run over a video file as fast as the machine allows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.config import CameraConfig, WatcherConfig
from watcher.core import FaceEngine
from watcher.faces.gallery import Gallery
from watcher.pipeline.camera import CameraPipeline
from watcher.pipeline.clock import MediaClock
from watcher.pipeline.events import FinishedEvent
from watcher.pipeline.schedule import AnalysisSchedule
from watcher.source.av_source import AVSource
from watcher.source.limiter import DecodeLimiter
from watcher.store.writer import StoreWriter

Progress = Callable[[float, float], None]  # (seconds done, total seconds)


def replay(
    cfg: WatcherConfig,
    camera: CameraConfig,
    video: Path,
    engine: FaceEngine,
    gallery: Gallery,
    store: StoreWriter,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run one file through the camera's pipeline; return the replay JSON document.

    Raises SourceError when the file cannot be opened or read.
    """
    finished: list[FinishedEvent] = []
    pipeline = CameraPipeline(
        camera,
        cfg.recordings_dir,
        engine,
        lambda: gallery,
        store,
        on_finished=finished.append,
        alert_names=cfg.alert_names(),
    )
    source = AVSource(
        str(video),
        paced=False,
        skip_nonref=camera.skip_nonref_frames,
        decode_threads=camera.decode_threads,
        limiter=pipeline.limiter,
    )
    info = source.open()
    total = source.duration_s
    # The file is taken as just recorded: its end is now, so rows and folders
    # carry past times, never future ones.
    pipeline.start_stream(info, MediaClock(datetime.now(UTC) - timedelta(seconds=total)))
    schedule = AnalysisSchedule(camera.faces.analyse_fps)
    frames = 0
    try:
        for chunk in source.chunks():
            pipeline.on_packets(chunk.packets)
            frames += len(chunk.packets)  # every frame has a packet; not all are decoded
            for frame in chunk.frames:
                pipeline.offered(frame.t)
                if schedule.due(frame.t):
                    pipeline.analyse(frame)
                else:
                    pipeline.passed(frame.t)
                if progress is not None:
                    progress(frame.t, total)
    finally:
        pipeline.end_stream()
        pipeline.close()
        source.close()
    return {
        "video": str(video),
        "camera": camera.name,
        "frames": frames,
        "analysed_frames": pipeline.stats.analysed,
        "gated_frames": pipeline.stats.gated,
        "embeddings": pipeline.stats.embeddings,
        "decoded_frames": source.decoded_frames,
        "searched_pixels": pipeline.stats.searched_pixels,
        "decoding": decoding_summary(camera.decoding, pipeline.limiter),
        "events": [e.to_json() for e in finished],
    }


def decoding_summary(configured: str, limiter: DecodeLimiter | None) -> dict[str, Any]:
    """What limited decoding did over a replay (the configured mode alone when full)."""
    if limiter is None:
        return {"mode": configured}
    stats = limiter.stats
    return {
        "mode": configured,
        "switches": stats.switches,
        "catch_ups": stats.catch_ups,
        "caught_up_frames": stats.caught_up_frames,
        "cues": stats.cues,
        "thinned_keyframes": stats.thinned,
        "decoded_share": round(limiter.decoded_share, 4),
    }
