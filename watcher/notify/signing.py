"""Standard Webhooks v1 signatures: HMAC-SHA256 of `id.timestamp.body` with a `whsec_` secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Final

PREFIX: Final = "whsec_"


def decode_secret(secret: str) -> bytes:
    """The key bytes of a `whsec_<base64>` secret (ValueError when it is not one)."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not key:
        raise ValueError("empty webhook secret")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any `v1,` signature of a (space-separated) header matches: the receiver's check."""
    expected = signature(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, part) for part in header.split())
