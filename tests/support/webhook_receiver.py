"""A webhook receiver on loopback for tests: answers from a script and checks each signature."""

from __future__ import annotations

import json
import threading
import time
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from watcher.notify.signing import verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _form(content_type: str, body: bytes) -> tuple[bytes, bytes | None]:
    """The `payload` and `snapshot` parts of a multipart/form-data body (standard library)."""
    message = BytesParser(policy=default).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    snapshot = parts.get("snapshot")
    return (
        parts["payload"].get_payload(decode=True),
        snapshot.get_payload(decode=True) if snapshot is not None else None,
    )


class Receiver:
    """An HTTP endpoint on loopback: answers from a script, checks each signature."""

    def __init__(self, answers: list[tuple[int, dict[str, str]]] | None = None) -> None:
        self.answers = list(answers or [])
        self.requests: list[dict[str, object]] = []
        self.delay_s = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                payload, snapshot = body, None
                if self.headers["Content-Type"].startswith("multipart/form-data"):
                    payload, snapshot = _form(self.headers["Content-Type"], body)
                msg_id = self.headers["webhook-id"]
                stamp = int(self.headers["webhook-timestamp"])
                signed = verify(SECRET, msg_id, stamp, body, self.headers["webhook-signature"])
                time.sleep(receiver.delay_s)
                status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
                receiver.requests.append(
                    {
                        "at": time.monotonic(),
                        "id": msg_id,
                        "signed": signed,
                        "fresh": abs(time.time() - stamp) < 60,
                        "body": json.loads(payload),
                        "snapshot": snapshot,
                        "status": status,
                        "path": self.path,
                    }
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self) -> list[dict[str, object]]:
        return [r for r in self.requests if 200 <= int(r["status"]) < 300]  # type: ignore[call-overload]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
