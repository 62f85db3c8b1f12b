"""Webhooks: each message POSTed as JSON, signed as Standard Webhooks v1 (standard library)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

from watcher import __version__
from watcher.config.loader import mask_url
from watcher.config.notify import WebhookConfig
from watcher.notify.channel import DELIVERED, Message, Outcome
from watcher.notify.signing import signature

log = logging.getLogger("watcher.notify")

TARGET_PREFIX: Final = "webhook:"
_GONE: Final = 410


def hashed_target(prefix: str, url: str) -> str:
    """An outbox target stable for a URL, which it does not reveal."""
    return prefix + hashlib.sha256(url.encode()).hexdigest()[:16]


def webhook_target(url: str) -> str:
    """The outbox target of an endpoint: stable for its URL, which it does not reveal."""
    return hashed_target(TARGET_PREFIX, url)


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now; None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def multipart(payload: bytes, picture: bytes) -> tuple[bytes, str]:
    """multipart/form-data: the JSON as `payload`, the JPEG as `snapshot`; and its type."""
    boundary = f"watcher-{uuid.uuid4().hex}"
    parts = [
        (b'form-data; name="payload"', b"application/json", payload),
        (b'form-data; name="snapshot"; filename="snapshot.jpg"', b"image/jpeg", picture),
    ]
    out = bytearray()
    for disposition, kind, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"Content-Disposition: " + disposition + b"\r\n"
        out += b"Content-Type: " + kind + b"\r\n\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _split_credentials(url: str) -> tuple[str, str | None]:
    """`https://user:pass@host/...` as the URL without them and a Basic Authorization value."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    user = unquote(parts.username)
    password = unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=netloc)), f"Basic {token}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to retry, not a POST to send elsewhere (with the body)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class WebhookChannel:
    """One configured endpoint."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.target = webhook_target(config.url)
        self.name = f"webhook {mask_url(config.url)}"
        self.secret = config.read_secret()  # OSError: the caller says which file
        self.kinds = frozenset(config.events)
        self._opener = urllib.request.build_opener(_NoRedirect())
        self._url, self._auth = _split_credentials(config.url)

    def ready(self) -> bool:
        return True

    def deliver(self, message: Message) -> Outcome:
        body = message.payload.encode("utf-8")
        content_type = "application/json"
        picture = self._picture(message) if self.config.snapshot else None
        if picture is not None:
            body, content_type = multipart(body, picture)
        stamp = int(time.time())
        headers = {
            "Content-Type": content_type,
            "User-Agent": f"watcher/{__version__}",
            "webhook-id": message.message_id,
            "webhook-timestamp": str(stamp),
        }
        if self.secret:
            headers["webhook-signature"] = signature(self.secret, message.message_id, stamp, body)
        if self._auth:
            headers["Authorization"] = self._auth
        request = urllib.request.Request(self._url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.config.timeout_s) as response:
                status = int(response.status)
                retry_after = response.headers.get("Retry-After")
        except urllib.error.HTTPError as exc:
            status = int(exc.code)
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            exc.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            return Outcome(False, error=f"no answer: {reason}")
        if 200 <= status < 300:
            return DELIVERED
        if status == _GONE:
            return Outcome(False, error="HTTP 410 Gone", disable=True)
        return Outcome(False, error=f"HTTP {status}", retry_after_s=retry_after_s(retry_after))

    @staticmethod
    def _picture(message: Message) -> bytes | None:
        """The snapshot's bytes when this message is the first to name it (and it is there)."""
        if message.kind != "update":
            return None
        body = message.body()
        path = (body.get("after") or {}).get("snapshot")
        if not path or (body.get("before") or {}).get("snapshot"):
            return None
        try:
            return Path(path).read_bytes()
        except OSError:
            return None  # gone since (retention): the JSON goes alone

    def close(self) -> None:
        """Nothing is kept open between calls."""
