"""Standard Webhooks v1 signatures: HMAC-SHA256 of `id.timestamp.body` with a `whsec_` secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

from watcher.config.notify import decode_secret  # the secret's format is the config's


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any `v1,` signature of a (space-separated) header matches: the receiver's check."""
    expected = signature(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, part) for part in header.split())
