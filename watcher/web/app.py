"""The review page's application: routes, sessions, CSRF, and the read-only database."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watcher.config import WatcherConfig, mask_url
from watcher.config.models import CAMERA_NAME_PATTERN
from watcher.constants import EVENT_CLOSED, EVENT_INTERRUPTED, EVENT_NO_CLIP, EVENT_OPEN
from watcher.store import EventRecord, get_event, list_events, list_unknown, make_engine
from watcher.store.db import identities_of, set_reviewed
from watcher.store.identities import find_identity, identity_crops
from watcher.store.schema import HEAD_REVISION, current_revision
from watcher.usecases import EventNotDeleted, delete_event
from watcher.web.auth import (
    ADMIN,
    COOKIE,
    Credentials,
    LoginLimiter,
    Session,
    Signer,
    read_credentials,
)
from watcher.web.files import clip_codec, file_response, resolve_under

log = logging.getLogger("watcher.web")

HERE: Final = Path(__file__).resolve().parent
EVENT_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
CAMERA: Final = re.compile(CAMERA_NAME_PATTERN)
LABEL: Final = re.compile(r"^unknown-\d{1,12}$")
NAMING_TIMEOUT_S: Final = 300.0
# The daemon's status file (watcher.pipeline.status.STATUS_FILE, read here without
# importing the pipeline), stale when older than `watcher status` says (rewritten every 10 s).
STATUS_FILE: Final = "status.json"
STALE_S: Final = 45.0
MAX_NAME: Final = 63
CROPS_SHOWN: Final = 4  # best crops of a stranger on the strangers page
MAX_FORM_BYTES: Final = 64 * 1024
REVIEWED_FILTER: Final = {"yes": True, "no": False}
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
    """The daemon's database, opened read-only by this process when it exists.

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
                self._engine = make_engine(self._cfg.database_url)
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
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


@dataclass(frozen=True)
class Day:
    """The timeline's events of one local day."""

    label: str
    events: list[EventRecord]


def duration(event: EventRecord) -> str:
    """How long the event lasted, as `1 min 05 s`; empty while it is open."""
    if event.ended_at is None:
        return ""
    seconds = max(0, round((event.ended_at - event.started_at).total_seconds()))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def group_by_day(events: list[EventRecord]) -> list[Day]:
    """Consecutive events (newest first) grouped by their local start day."""
    days: list[Day] = []
    for event in events:
        label = event.started_at.astimezone().strftime("%A %d %B %Y")
        if not days or days[-1].label != label:
            days.append(Day(label, []))
        days[-1].events.append(event)
    return days


def _cursor(event: EventRecord) -> str:
    return f"{event.started_at.isoformat()}~{event.id}"


def _parse_cursor(text: str | None) -> tuple[datetime, str] | None:
    if not text or "~" not in text:
        return None
    at, _, event_id = text.rpartition("~")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    if when.tzinfo is None or not EVENT_ID.match(event_id):
        return None
    return when, event_id


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day).astimezone()


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
        self.templates.globals["duration"] = duration

    # -- sessions and pages ----------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        session = self.signer.load(request.cookies.get(COOKIE))
        if session is not None and self.credentials is not None and not session.user:
            return session  # anonymous: may see the login page only
        return session

    def allowed(self, session: Session | None) -> bool:
        """Whether the session may see the recordings."""
        return self.credentials is None or (session is not None and session.user)

    def can_change(self, session: Session | None) -> bool:
        """Whether the session may change things (the admin; anyone on loopback without
        a password)."""
        return self.credentials is None or (session is not None and session.role == ADMIN)

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        session: Session | None = None,
    ) -> HTMLResponse:
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

    @property
    def lifetime_s(self) -> float:
        return self.cfg.web.session_hours * 3600.0

    def set_cookie(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.signer.dump(session),
            max_age=int(self.lifetime_s),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        return self.render(request, "error.html", {"message": message}, status=status)

    def cameras(self) -> list[dict[str, str]]:
        """The configured cameras, their sources masked (nothing secret in a page)."""
        return [
            {"name": camera.name, "source": mask_url(camera.source)}
            for camera in self.cfg.cameras.values()
        ]


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (bounded), first value of each field."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items()}


def _same_origin(request: Request) -> bool:
    """A request that says where it comes from must come from this page."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def create_app(cfg: WatcherConfig, credentials: Credentials | None = None) -> Starlette:
    """The page's ASGI application on `cfg` (credentials: from cfg.web.password_file)."""
    if credentials is None:
        credentials = read_credentials(cfg.web.password_file)
    web = WebApp(cfg, credentials)
    recordings = cfg.recordings_dir

    def gate(request: Request) -> Response | None:
        """A redirect to the login page when a password is set and nobody logged in."""
        if web.allowed(web.session(request)):
            return None
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)

    async def check_change(request: Request) -> tuple[dict[str, str], Response | None]:
        """Like check_csrf, for what only the admin may do."""
        form, refused = await check_csrf(request)
        if refused is None and not web.can_change(web.session(request)):
            refused = web.error(request, 403, "A viewer can look, not change anything.")
        return form, refused

    async def admin_change(request: Request) -> tuple[dict[str, str], Response | None]:
        """The form of a change the admin makes from the page (logged in), or the refusal."""
        if (refused := gate(request)) is not None:
            return {}, refused
        return await check_change(request)

    async def event_change(request: Request) -> tuple[dict[str, str], str, Response | None]:
        """admin_change for one event: its form, its id, or the refusal (404: no such id)."""
        form, refused = await admin_change(request)
        event_id = request.path_params["event_id"]
        if refused is None and not EVENT_ID.match(event_id):
            refused = web.error(request, 404, "No such event.")
        return form, event_id, refused

    async def check_csrf(request: Request) -> tuple[dict[str, str], Response | None]:
        """The form of a request that changes something, or the refusal."""
        form = await _form(request)
        session = web.session(request)
        token = form.get("csrf") or request.headers.get("x-csrf-token", "")
        if (
            session is None
            or not token
            or not hmac.compare_digest(token, session.csrf)
            or not _same_origin(request)
        ):
            return form, web.error(
                request, 403, "This form has expired or did not come from this page: reload it."
            )
        return form, None

    def timeline(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        params = request.query_params
        camera = params.get("camera") or None
        if camera is not None and not CAMERA.match(camera):
            return web.error(request, 400, "No such camera.")
        day = _parse_day(params.get("date"))
        reviewed = REVIEWED_FILTER.get(params.get("reviewed", ""))
        identity = params.get("identity") or None
        if identity is not None and not LABEL.match(identity):
            return web.error(request, 400, "No such stranger.")
        before = _parse_cursor(params.get("before"))
        size = cfg.web.page_size
        try:
            engine = web.db.engine()
            events = (
                []
                if engine is None
                else list_events(
                    engine,
                    camera=camera,
                    since=_local_midnight(day) if day else None,
                    until=_local_midnight(day + timedelta(days=1)) if day else None,
                    before=before,
                    limit=size + 1,
                    reviewed=reviewed,
                    identity=identity,
                )
            )
            seen = {} if engine is None else identities_of(engine, [e.id for e in events])
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        more = len(events) > size
        deleted = params.get("deleted", "")
        events = events[:size]
        shown = "" if reviewed is None else ("yes" if reviewed else "no")
        query = {
            k: v
            for k, v in (
                ("camera", camera),
                ("date", day and day.isoformat()),
                ("reviewed", shown),
                ("identity", identity),
            )
            if v
        }
        next_url = "/?" + urlencode({**query, "before": _cursor(events[-1])}) if more else None
        return web.render(
            request,
            "timeline.html",
            {
                "days": group_by_day(events),
                "cameras": web.cameras(),
                "camera": camera or "",
                "date": day.isoformat() if day else "",
                "reviewed": shown,
                "identity": identity or "",
                "seen": seen,
                "next_url": next_url,
                "first_url": ("/?" + urlencode(query)) if before else None,
                "no_database": engine is None,
                "deleted": deleted if EVENT_ID.match(deleted) else "",
            },
        )

    def event_page(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        event_id = request.path_params["event_id"]
        if not EVENT_ID.match(event_id):
            return web.error(request, 404, "No such event.")
        try:
            engine = web.db.engine()
            event = None if engine is None else get_event(engine, event_id)
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        if event is None:
            return web.error(request, 404, "No such event: retention may have removed it.")
        camera = cfg.cameras.get(event.camera)
        clip = resolve_under(recordings, event.clip_path)
        return web.render(
            request,
            "event.html",
            {
                "event": event,
                "camera_source": mask_url(camera.source) if camera else "",
                "has_clip": clip is not None,
                "codec": clip_codec(clip) if clip is not None else None,
                "has_snapshot": resolve_under(recordings, event.snapshot_path) is not None,
                "has_face": resolve_under(recordings, event.face_path) is not None,
            },
        )

    def event_file(request: Request) -> Response:
        if not web.allowed(web.session(request)):
            return Response("login required", status_code=401)
        event_id = request.path_params["event_id"]
        kind = request.path_params["kind"]
        if not EVENT_ID.match(event_id) or kind not in ("clip", "snapshot", "face"):
            return Response("not found", status_code=404)
        try:
            engine = web.db.engine()
            event = None if engine is None else get_event(engine, event_id)
        except Unavailable:
            return Response("database unavailable", status_code=503)
        stored = None
        if event is not None:
            stored = {"clip": event.clip_path, "snapshot": event.snapshot_path}.get(
                kind, event.face_path
            )
        path = resolve_under(recordings, stored)
        if path is None:
            return Response("not found", status_code=404)
        return file_response(path, request.headers.get("range"))

    async def delete(request: Request) -> Response:
        """Delete an event with its files and rows, as retention does (usecases)."""
        _form_data, event_id, refused = await event_change(request)
        if refused is not None:
            return refused
        try:
            engine = web.db.engine()
            if engine is None:
                return web.error(request, 404, "No such event.")
            await run_in_threadpool(delete_event, engine, recordings, event_id)
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        except EventNotDeleted as exc:
            return web.error(request, 409, f"Not deleted: {exc}.")
        log.info("web: event %s deleted from the page", event_id)
        return RedirectResponse("/?" + urlencode({"deleted": event_id}), 303)

    async def review(request: Request) -> Response:
        """Mark an event reviewed, or not reviewed again."""
        form, event_id, refused = await event_change(request)
        if refused is not None:
            return refused
        try:
            engine = web.db.engine()
            found = engine is not None and await run_in_threadpool(
                set_reviewed, engine, event_id, form.get("reviewed", "yes") != "no"
            )
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        if not found:
            return web.error(request, 404, "No such event: retention may have removed it.")
        return RedirectResponse(f"/events/{event_id}", 303)

    def strangers(request: Request) -> Response:
        if (refused := gate(request)) is not None:
            return refused
        try:
            engine = web.db.engine()
            identities = [] if engine is None else list_unknown(engine)
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        return web.render(
            request,
            "strangers.html",
            {"identities": identities, "crops": range(CROPS_SHOWN)},
        )

    async def name_stranger(request: Request) -> Response:
        """ "This is Alice": the whole identity at once, by `watcher faces name` itself."""
        form, refused = await admin_change(request)
        if refused is not None:
            return refused
        label = request.path_params["label"]
        name = form.get("name", "").strip()
        if not LABEL.match(label):
            return web.error(request, 404, "No such stranger.")
        if not name or len(name) > MAX_NAME:
            return web.error(request, 400, "Give a name (at most 63 characters).")
        ok, lines = await run_in_threadpool(name_by_command, cfg, label, name)
        return web.render(
            request,
            "named.html",
            {"label": label, "name": name, "ok": ok, "lines": lines},
            status=200 if ok else 409,
        )

    def stranger_crop(request: Request) -> Response:
        if not web.allowed(web.session(request)):
            return Response("login required", status_code=401)
        label = request.path_params["label"]
        index = request.path_params["index"]
        if not LABEL.match(label) or not 0 <= index < CROPS_SHOWN:
            return Response("not found", status_code=404)
        try:
            engine = web.db.engine()
            ref = None if engine is None else find_identity(engine, label)
            crops = [] if engine is None or ref is None else identity_crops(engine, ref.id)
        except Unavailable:
            return Response("database unavailable", status_code=503)
        stored = [p for p in crops if resolve_under(recordings, str(p)) is not None]
        if index >= len(stored):
            return Response("not found", status_code=404)
        path = resolve_under(recordings, str(stored[index]))
        assert path is not None
        return file_response(path, request.headers.get("range"))

    def status_page(request: Request) -> Response:
        """What `watcher status` shows, plus each camera's last event and the disk."""
        if (refused := gate(request)) is not None:
            return refused
        daemon = read_daemon_status(recordings)
        last: dict[str, EventRecord] = {}
        try:
            engine = web.db.engine()
            if engine is not None:
                for name in cfg.cameras:
                    found = list_events(engine, camera=name, limit=1)
                    if found:
                        last[name] = found[0]
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        live = {c.get("camera"): c for c in daemon.get("cameras", [])} if daemon else {}
        return web.render(
            request,
            "status.html",
            {
                "daemon": daemon,
                "cameras": [
                    {**cam, "live": live.get(cam["name"]), "last": last.get(cam["name"])}
                    for cam in web.cameras()
                ],
                "disk": disk_use(recordings),
                "retention": cfg.retention,
            },
        )

    def login_page(request: Request) -> Response:
        if web.credentials is None:
            return RedirectResponse("/", 303)
        return web.render(request, "login.html", {"next": _safe_next(request), "failed": False})

    async def login(request: Request) -> Response:
        form, refused = await check_csrf(request)
        if refused is not None:
            return refused
        if web.credentials is None:
            return RedirectResponse("/", 303)
        client = request.client.host if request.client else "?"
        if web.limiter.blocked(client):
            return web.error(request, 429, "Too many failed logins: wait a few minutes.")
        password = form.get("password", "")
        role = await run_in_threadpool(web.credentials.role_of, password)
        if role is None:
            web.limiter.failed(client)
            log.warning("web: failed login from %s", client)
            return web.render(
                request,
                "login.html",
                {"next": form.get("next", "/"), "failed": True},
                status=401,
            )
        web.limiter.succeeded(client)
        target = form.get("next", "/")
        response = RedirectResponse(target if _local_path(target) else "/", 303)
        # A new session (and CSRF token) at login: one planted before cannot be used.
        web.set_cookie(request, response, Session.new(role=role, lifetime_s=web.lifetime_s))
        log.info("web: %s logged in from %s", role, client)
        return response

    async def logout(request: Request) -> Response:
        _form_data, refused = await check_csrf(request)
        if refused is not None:
            return refused
        response = RedirectResponse("/login" if web.credentials else "/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    routes = [
        Route("/", timeline),
        Route("/events/{event_id}", event_page),
        Route("/events/{event_id}/delete", delete, methods=["POST"]),
        Route("/events/{event_id}/reviewed", review, methods=["POST"]),
        Route("/events/{event_id}/{kind}", event_file),
        Route("/strangers", strangers),
        Route("/status", status_page),
        Route("/strangers/{label}/crop/{index:int}", stranger_crop),
        Route("/strangers/{label}/name", name_stranger, methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        web.db.dispose()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.web = web
    return app


def name_by_command(cfg: WatcherConfig, label: str, name: str) -> tuple[bool, list[str]]:
    """Run `watcher faces name LABEL NAME` on this config; (success, its output lines).

    The same code as the command, in a process of its own: the face engine (dlib and
    its models, a few hundred MB at work) is loaded only while naming, never kept by
    the page.
    """
    if cfg.config_path is None:
        return False, ["this page was not started from a config file"]
    config = ["-c", str(cfg.config_path)]
    try:
        done = subprocess.run(
            # After `--` a name is never taken for an option; the command validates it.
            [sys.executable, "-m", "watcher", "faces", "name", *config, "--", label, name],
            capture_output=True,
            text=True,
            timeout=NAMING_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, [f"naming took longer than {NAMING_TIMEOUT_S:.0f} s and was stopped"]
    lines = [line.removeprefix("watcher: ") for line in (done.stdout + done.stderr).splitlines()]
    return done.returncode == 0, [line for line in lines if line.strip()][-20:]


def read_daemon_status(recordings: Path) -> dict[str, Any] | None:
    """The status file the running daemon writes every few seconds (`watcher status`),
    with whether its process still runs and how old it is; None when there is none."""
    try:
        doc = json.loads((recordings / STATUS_FILE).read_text(encoding="utf-8"))
        written = datetime.fromisoformat(str(doc["written_at"]))
        pid = int(doc["pid"])
        if not isinstance(doc.get("cameras"), list):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
        running = True
    except ProcessLookupError:
        running = False
    except PermissionError:
        running = True  # the daemon runs as another user
    age = (datetime.now(UTC) - written).total_seconds()
    return {**doc, "running": running, "age_s": age, "stale": age > STALE_S, "written": written}


def disk_use(recordings: Path) -> dict[str, float] | None:
    """Space on the recordings' file system, in GB."""
    try:
        usage = shutil.disk_usage(recordings)
    except OSError:
        return None
    gb = 1024**3
    return {"total": usage.total / gb, "used": usage.used / gb, "free": usage.free / gb}


def _local_path(target: str) -> bool:
    """Whether a redirect target stays on this site (no scheme, host or `//`)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def _safe_next(request: Request) -> str:
    target = request.query_params.get("next", "/")
    return target if _local_path(target) else "/"
