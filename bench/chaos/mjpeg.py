"""The broken HTTP MJPEG camera: a live multipart JPEG stream that misbehaves on demand.

A real HTTP server on loopback (as tests/test_http_mjpeg.py and
tests/test_issue12_capture.py serve one). It is live like a camera: the picture it
sends is the one of the scene at that moment (`t0` + n / fps), whoever connects when,
so the ground truth is arithmetic. Its faults, set by the soak:

- `garbage`: the next part of every connection is random bytes labelled image/jpeg;
- `tiny`: a 1x1 JPEG (no real picture; issue 12, defect 2);
- `truncated`: the first half of a JPEG;
- `resized`: five parts at 320x180 among the 640x360 ones;
- `stall`: nothing more is sent for a while, the connection left open;
- `drop`: every connection is closed, and new ones are refused (503) for a while.
"""

from __future__ import annotations

import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = "chaosframe"
ONE_SHOT = ("garbage", "tiny", "truncated", "resized")
SPELLS = ("stall", "drop")


def _jpeg(picture: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return bytes(data.tobytes())


class MjpegCamera:
    def __init__(self, name: str, frames: list[bytes], fps: float, seed: int) -> None:
        self.name, self.kind = name, "mjpeg"
        self.frames, self.fps = frames, fps
        self.rng = random.Random(seed)
        self.t0 = 0.0
        self.inject: tuple[int, str] = (0, "")  # (generation, kind) of a one-shot fault
        self.spell: tuple[str, float] = ("", 0.0)  # (stall|drop, until wall time)
        self.connections = 0
        self.lock = threading.Lock()
        small = cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR)
        self.resized = _jpeg(cv2.resize(small, (320, 180)))
        self.tiny = _jpeg(np.zeros((1, 1, 3), np.uint8))
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                camera.serve(self)

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/video.mjpg"

    @property
    def period_s(self) -> float:
        return len(self.frames) / self.fps

    def start(self) -> None:
        self.t0 = time.time()
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    # -- faults, from the soak's thread -------------------------------------------------
    def one_shot(self, kind: str) -> None:
        with self.lock:
            self.inject = (self.inject[0] + 1, kind)

    def start_spell(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.spell = (kind, time.time() + seconds)

    def spelling(self, kind: str) -> bool:
        with self.lock:
            return self.spell[0] == kind and time.time() < self.spell[1]

    # -- serving ------------------------------------------------------------------------
    def _bad_parts(self, kind: str) -> list[bytes]:
        good = self.frames[self.rng.randrange(len(self.frames))]
        if kind == "garbage":
            return [self.rng.randbytes(self.rng.randrange(200, 20_000))]
        if kind == "tiny":
            return [self.tiny]
        if kind == "truncated":
            return [good[: len(good) // 2]]
        return [self.resized] * 5

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        if self.spelling("drop"):
            handler.send_error(503, "camera busy")
            return
        with self.lock:
            self.connections += 1
            seen = self.inject[0]
        handler.send_response(200)
        handler.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
        handler.end_headers()
        last = -1
        try:
            while True:
                if self.spelling("drop"):
                    return
                if self.spelling("stall"):
                    time.sleep(0.1)
                    continue
                with self.lock:
                    generation, kind = self.inject
                parts: list[bytes] = []
                if generation != seen:
                    seen = generation
                    parts = self._bad_parts(kind)
                index = int((time.time() - self.t0) * self.fps)
                if index > last:
                    last = index
                    parts.append(self.frames[index % len(self.frames)])
                for data in parts:
                    head = (
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(data)}\r\n\r\n"
                    )
                    handler.wfile.write(head.encode() + data + b"\r\n")
                wait = self.t0 + (last + 1) / self.fps - time.time()
                time.sleep(min(max(wait, 0.0), 0.1))
        except (BrokenPipeError, ConnectionResetError):
            return
