"""An Apprise json:// endpoint on loopback for tests: answers from a script, keeps every push."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PushReceiver:
    """What Apprise's json:// plugin POSTs: {title, message, attachments: [{base64}]}."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.got: list[dict[str, object]] = []
        self.auth: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = outer.statuses.pop(0) if outer.statuses else 200
                outer.got.append({"status": status, **json.loads(body)})
                outer.auth.append(self.headers.get("Authorization"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/push"

    @property
    def titles(self) -> list[object]:
        """The title of every push received, delivered or not."""
        return [g["title"] for g in self.got]

    def delivered(self) -> list[dict[str, object]]:
        return [g for g in self.got if g["status"] == 200]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
