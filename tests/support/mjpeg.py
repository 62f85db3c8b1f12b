"""MJPEG for tests: the frames of a real video as JPEG, as a cheap IP camera serves them."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import cv2

BOUNDARY = "watcherframe"
FPS = 25


def jpeg_frames(video: Path) -> list[bytes]:
    """Every frame of a video as JPEG bytes (half size: a cheap camera)."""
    out = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            picture = frame.to_ndarray(format="bgr24")
            ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
            assert ok
            out.append(data.tobytes())
    return out


class MjpegCamera:
    """A real HTTP server on loopback: multipart JPEG at `fps` (25), looping `video`.

    With `first_part`, the first connection starts with that part (a bad one, say), the
    next ones do not.
    """

    def __init__(self, video: Path, first_part: bytes | None = None, fps: float = FPS) -> None:
        self.frames = jpeg_frames(video)
        self.fps = fps
        self.first_part = first_part
        self.connections = 0
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                camera.connections += 1
                parts = (
                    [camera.first_part]
                    if camera.first_part is not None and camera.connections == 1
                    else []
                )
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
                self.end_headers()
                start = time.monotonic()
                try:
                    for i in range(10_000):
                        data = parts[i] if i < len(parts) else camera.frames[i % len(camera.frames)]
                        head = (
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(data)}\r\n\r\n"
                        )
                        self.wfile.write(head.encode() + data + b"\r\n")
                        delay = start + (i + 1) / camera.fps - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                except (BrokenPipeError, ConnectionResetError):
                    return

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"

    def __enter__(self) -> MjpegCamera:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
