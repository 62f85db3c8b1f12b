"""Logging in and out of the page (when a password is set)."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from watcher.web.auth import COOKIE, Session
from watcher.web.site import WebApp

log = logging.getLogger("watcher.web")


def local_path(target: str) -> bool:
    """Whether a redirect target stays on this site (no scheme, host or `//`)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def safe_next(request: Request) -> str:
    """The page to go to after logging in, if it is one of this site's."""
    target = request.query_params.get("next", "/")
    return target if local_path(target) else "/"


def routes(web: WebApp) -> list[BaseRoute]:
    """The login page, logging in and logging out."""

    def login_page(request: Request) -> Response:
        if web.credentials is None:
            return RedirectResponse("/", 303)
        return web.render(request, "login.html", {"next": safe_next(request), "failed": False})

    async def login(request: Request) -> Response:
        form, refused = await web.check_csrf(request)
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
        response = RedirectResponse(target if local_path(target) else "/", 303)
        # A new session (and CSRF token) at login: one planted before cannot be used.
        web.set_cookie(request, response, Session.new(role=role, lifetime_s=web.lifetime_s))
        log.info("web: %s logged in from %s", role, client)
        return response

    async def logout(request: Request) -> Response:
        _form, refused = await web.check_csrf(request)
        if refused is not None:
            return refused
        response = RedirectResponse("/login" if web.credentials else "/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
