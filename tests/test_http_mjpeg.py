"""An HTTP MJPEG camera (multipart JPEG frames, as cheap IP cameras serve them).

The pictures are raw to watcher: it decodes them, analyses them and encodes them
to H.264 once, at the source, so its clips stay MP4 that browsers play.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import pytest

from tests.support.cli import write_config
from tests.support.daemon import EVENT_OPENED, Daemon, events
from tests.support.media import VIDEO, playable_seconds
from tests.support.mjpeg import BOUNDARY, FPS, jpeg_frames


@pytest.fixture
def mjpeg_url() -> Iterator[str]:
    """A real HTTP server on loopback streaming noface_face.mp4 as MJPEG, looping, at 25 fps."""
    frames = jpeg_frames(VIDEO / "noface_face.mp4")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
            self.end_headers()
            start = time.monotonic()
            try:
                for i in range(10_000):
                    data = frames[i % len(frames)]
                    head = (
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(data)}\r\n\r\n"
                    )
                    self.wfile.write(head.encode() + data + b"\r\n")
                    delay = start + (i + 1) / FPS - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stream.mjpg"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.mark.timeout(120)
def test_an_http_mjpeg_camera_is_watched_and_recorded_as_h264(
    tmp_path: Path, mjpeg_url: str
) -> None:
    config = write_config(tmp_path, source=mjpeg_url)
    with Daemon(config) as daemon:
        daemon.wait_for(r"connected to http://127\.0\.0\.1:\d+/stream\.mjpg \(h264 ", 60)
        opened = daemon.wait_for(EVENT_OPENED, timeout=60)
        daemon.wait_for(rf"event {opened.group(1)}: ended after", timeout=30)
        assert daemon.stop(signal.SIGTERM) == 0
    rows = [r for r in events(config) if r["id"] == opened.group(1)]
    assert rows and rows[0]["status"] == "closed"
    clip = str(rows[0]["clip"])
    with av.open(clip) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert playable_seconds(clip) >= 2.0
