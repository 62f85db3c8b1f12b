"""What every page of the review site shares: config, database, sessions, CSRF, rendering."""

from __future__ import annotations

import hmac
import os
import re
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watcher.config import WatcherConfig, mask_url
from watcher.constants import EVENT_CLOSED, EVENT_INTERRUPTED, EVENT_NO_CLIP, EVENT_OPEN
from watcher.store import make_engine
from watcher.store.schema import HEAD_REVISION, current_revision
from watcher.web.auth import ADMIN, COOKIE, Credentials, LoginLimiter, Session, Signer
from watcher.web.memory import commands_limiter

T = TypeVar("T")
HERE: Final = Path(__file__).resolve().parent
EVENT_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
LABEL: Final = re.compile(r"^unknown-\d{1,12}$")
MAX_NAME: Final = 63
MAX_FORM_BYTES: Final = 64 * 1024
STATUS_LABELS: Final = {
    EVENT_OPEN: "recording now",
    EVENT_CLOSED: "closed",
    EVENT_INTERRUPTED: "interrupted",
    EVENT_NO_CLIP: "no clip",
}
SECURITY_HEADERS: Final = {
    # Everything the page uses is its own: no inline script, nothing from elsewhere.
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; media-src 'self'; "
    "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
EXPIRED: Final = "This form has expired or did not come from this page: reload it."
VIEWER_REFUSED: Final = "A viewer can look, not change anything."


class SecurityHeaders:
    """Adds the security headers to every response (pure ASGI: streams stay streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Unavailable(Exception):
    """The database cannot be read; the message says why, in one line."""


class Database:
    """The daemon's database, opened by this process when it exists.

    Never migrated or created here: the daemon owns the schema. A database older
    than this watcher is reported, not upgraded.
    """

    def __init__(self, cfg: WatcherConfig) -> None:
        self._cfg = cfg
        self._engine: Engine | None = None
        self._checked = False
        self._lock = threading.Lock()

    def engine(self) -> Engine | None:
        """The engine, or None while there is no database yet."""
        from watcher.cli.common import missing_database

        with self._lock:
            if self._engine is None:
                if missing_database(self._cfg):
                    return None
                self._engine = make_engine(self._cfg.database_url, keep_connections=False)
            if not self._checked:
                try:
                    revision = current_revision(self._engine)
                except SQLAlchemyError as exc:
                    raise Unavailable(f"database unavailable: {type(exc).__name__}") from None
                if revision is None:
                    return None  # created but not migrated yet: the daemon is starting
                if revision != HEAD_REVISION:
                    raise Unavailable(
                        f"the database is at schema revision {revision}, this watcher needs "
                        f"{HEAD_REVISION}: start the daemon or run `watcher db upgrade`"
                    )
                self._checked = True
            return self._engine

    def dispose(self) -> None:
        """Close the engine's connections (the page is stopping)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body (bounded), first value of each field."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def same_origin(request: Request) -> bool:
    """A request that says where it comes from must come from this page."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


class WebApp:
    """Holds what the routes share: config, database, credentials, templates."""

    def __init__(self, cfg: WatcherConfig, credentials: Credentials | None) -> None:
        self.cfg = cfg
        self.credentials = credentials
        # Without a password file, sessions are signed with a key of this process.
        self.signer = Signer(credentials.secret if credentials else os.urandom(32))
        self.db = Database(cfg)
        self.limiter = LoginLimiter()
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals["status_label"] = STATUS_LABELS
        self.commands = commands_limiter()

    async def run_command(self, function: Callable[..., T], *args: Any) -> T:
        """Run a `watcher faces` command's call on the commands' thread, one at a time."""
        return await anyio.to_thread.run_sync(partial(function, *args), limiter=self.commands)

    # -- sessions ---------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        """The signed session of the request, or None."""
        return self.signer.load(request.cookies.get(COOKIE))

    def allowed(self, session: Session | None) -> bool:
        """Whether the session may see the recordings."""
        return self.credentials is None or (session is not None and session.user)

    def can_change(self, session: Session | None) -> bool:
        """Whether the session may change things (the admin; anyone on loopback without
        a password)."""
        return self.credentials is None or (session is not None and session.role == ADMIN)

    @property
    def lifetime_s(self) -> float:
        """How long a session lasts."""
        return self.cfg.web.session_hours * 3600.0

    def set_cookie(self, request: Request, response: Response, session: Session) -> None:
        """Send the session as a signed, HttpOnly, SameSite=Strict cookie."""
        response.set_cookie(
            COOKIE,
            self.signer.dump(session),
            max_age=int(self.lifetime_s),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    # -- gates ------------------------------------------------------------------------

    def gate(self, request: Request) -> Response | None:
        """A redirect to the login page when a password is set and nobody logged in."""
        if self.allowed(self.session(request)):
            return None
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)

    def file_gate(self, request: Request) -> Response | None:
        """For a file (a picture, a clip): 401 rather than a redirect to a page."""
        if self.allowed(self.session(request)):
            return None
        return Response("login required", status_code=401)

    def csrf_refusal(self, request: Request, token: str) -> Response | None:
        """The refusal of a change whose CSRF token or origin is wrong, else None."""
        session = self.session(request)
        token = token or request.headers.get("x-csrf-token", "")
        if (
            session is None
            or not token
            or not hmac.compare_digest(token, session.csrf)
            or not same_origin(request)
        ):
            return self.error(request, 403, EXPIRED)
        return None

    async def check_csrf(self, request: Request) -> tuple[dict[str, str], Response | None]:
        """The form of a request that changes something, or the refusal."""
        form = await read_form(request)
        return form, self.csrf_refusal(request, form.get("csrf", ""))

    def change_refusal(self, request: Request, token: str) -> Response | None:
        """The refusal of an admin's change (logged in, CSRF right, admin), else None."""
        if (refused := self.gate(request)) is not None:
            return refused
        if (refused := self.csrf_refusal(request, token)) is not None:
            return refused
        if not self.can_change(self.session(request)):
            return self.error(request, 403, VIEWER_REFUSED)
        return None

    async def admin_change(self, request: Request) -> tuple[dict[str, str], Response | None]:
        """The form of a change the admin makes from the page (logged in), or the refusal."""
        if (refused := self.gate(request)) is not None:
            return {}, refused
        form = await read_form(request)
        return form, self.change_refusal(request, form.get("csrf", ""))

    # -- pages ------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        session: Session | None = None,
    ) -> HTMLResponse:
        """A page from its template, with the session's CSRF token and role."""
        session = session or self.session(request)
        fresh = session is None
        if session is None:
            session = Session.new(role="", lifetime_s=self.lifetime_s)
        body = self.templates.get_template(template).render(
            csrf=session.csrf,
            logged_in=session.user,
            role=session.role,
            can_change=self.can_change(session),
            password_set=self.credentials is not None,
            **context,
        )
        response = HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
        if fresh:
            self.set_cookie(request, response, session)
        return response

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        """An error page with one line for the user."""
        return self.render(request, "error.html", {"message": message}, status=status)

    def cameras(self) -> list[dict[str, str]]:
        """The configured cameras, their sources masked (nothing secret in a page)."""
        return [
            {"name": camera.name, "source": mask_url(camera.source)}
            for camera in self.cfg.cameras.values()
        ]
