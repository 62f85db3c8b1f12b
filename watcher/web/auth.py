"""Who may look: the password's salted hash, signed session cookies, CSRF tokens.

Standard library only: PBKDF2-HMAC-SHA256 for the password, HMAC-SHA256 for the cookie.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

SCHEME: Final = "pbkdf2_sha256"
ITERATIONS: Final = 600_000  # OWASP's figure for PBKDF2-HMAC-SHA256
SALT_BYTES: Final = 16
SECRET_BYTES: Final = 32
MIN_PASSWORD: Final = 8
COOKIE: Final = "watcher_session"
LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class AuthError(Exception):
    """The password file cannot be used; the message is the one line to show."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """`pbkdf2_sha256$<iterations>$<salt>$<hash>`: a fresh random salt every time."""
    salt = os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the stored hash (compared in constant time)."""
    try:
        scheme, rounds, salt, digest = encoded.split("$")
        iterations = int(rounds)
        expected = _unb64(digest)
        salt_bytes = _unb64(salt)
    except (ValueError, binascii.Error):
        return False
    if scheme != SCHEME or not 1 <= iterations <= 10_000_000:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt_bytes, iterations)
    return hmac.compare_digest(actual, expected)


ADMIN: Final = "admin"  # looks and changes (mark reviewed, delete, name a stranger)
VIEWER: Final = "viewer"  # looks only
ROLES: Final = (ADMIN, VIEWER)


@dataclass(frozen=True)
class Credentials:
    """What the password file holds: the hashes and the key that signs sessions."""

    password_hash: str  # the admin's
    secret: bytes
    viewer_hash: str | None = None

    def role_of(self, password: str) -> str | None:
        """The role this password logs in as, or None."""
        if verify_password(password, self.password_hash):
            return ADMIN
        if self.viewer_hash is not None and verify_password(password, self.viewer_hash):
            return VIEWER
        return None


def read_credentials(path: Path) -> Credentials | None:
    """The password file's content; None when there is none (no password set)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AuthError(f"cannot read the password file {path}: {exc}") from None
    try:
        viewer = raw.get("viewer_hash")
        return Credentials(
            str(raw["password_hash"]),
            bytes.fromhex(str(raw["secret"])),
            None if viewer is None else str(viewer),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise AuthError(f"the password file {path} is damaged: set it again") from None


def write_credentials(path: Path, password: str, role: str = ADMIN) -> None:
    """Store a new password's hash for `role` and a new signing key (every session ends),
    mode 0600. The viewer's password needs the admin's first."""
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")
    if role not in ROLES:
        raise AuthError(f"no role {role!r}")
    old = read_credentials(path)
    if role == VIEWER and old is None:
        raise AuthError("set the admin password first (`watcher web passwd`)")
    doc: dict[str, Any] = {"secret": secrets.token_hex(SECRET_BYTES)}
    if role == ADMIN:
        doc["password_hash"] = hash_password(password)
        if old is not None and old.viewer_hash is not None:
            doc["viewer_hash"] = old.viewer_hash
    else:
        assert old is not None
        doc["password_hash"] = old.password_hash
        doc["viewer_hash"] = hash_password(password)
    other = old and (old.password_hash if role == VIEWER else old.viewer_hash)
    if other and verify_password(password, other):
        raise AuthError("the viewer's password must differ from the admin's")
    body = json.dumps(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(body + "\n")
    os.replace(tmp, path)


def is_loopback(host: str) -> bool:
    """Whether an address to listen on is reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def bind_refusal(host: str, credentials: Credentials | None) -> str | None:
    """Why the page must not listen on `host`; None when it may."""
    if credentials is None and not is_loopback(host):
        return (
            f"refusing to listen on {host} without a password: anyone on that network "
            "would see the recordings; set one with `watcher web passwd`, or listen on "
            "127.0.0.1"
        )
    return None


@dataclass(frozen=True)
class Session:
    """A visitor's session: its CSRF token and the role it logged in as ("": none)."""

    csrf: str
    role: str
    expires: float

    @property
    def user(self) -> bool:
        """Whether it logged in."""
        return self.role in ROLES

    @staticmethod
    def new(role: str, lifetime_s: float) -> Session:
        return Session(secrets.token_urlsafe(24), role, time.time() + lifetime_s)


class Signer:
    """Signs and checks session cookies with HMAC-SHA256."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"watcher-web-session\0" + secret).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def dump(self, session: Session) -> str:
        payload: dict[str, Any] = {"c": session.csrf, "r": session.role, "e": int(session.expires)}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def load(self, cookie: str | None) -> Session | None:
        """The session a cookie holds; None when absent, forged or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            raw = json.loads(_unb64(body))
            role = raw["r"] if raw["r"] in ROLES else ""
            session = Session(str(raw["c"]), role, float(raw["e"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        return session if session.expires > time.time() else None


class LoginLimiter:
    """Failed logins per client address: after `limit` in `window_s`, wait it out."""

    def __init__(self, limit: int = 5, window_s: float = 300.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}

    def blocked(self, client: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self._failures.get(client, []) if now - t < self.window_s]
        if recent:
            self._failures[client] = recent
        else:
            self._failures.pop(client, None)
        return len(recent) >= self.limit

    def failed(self, client: str) -> None:
        if len(self._failures) > 10_000:  # bounded: a flood of addresses cannot eat memory
            self._failures.clear()
        self._failures.setdefault(client, []).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
