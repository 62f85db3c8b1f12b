"""The review page's application: each page's routes, behind the security headers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from watcher.config import WatcherConfig
from watcher.web import events, gallery, login, status, strangers, timeline
from watcher.web.auth import Credentials, read_credentials
from watcher.web.memory import TrimWhenIdle, limit_threads
from watcher.web.site import HERE, SecurityHeaders, WebApp


def create_app(cfg: WatcherConfig, credentials: Credentials | None = None) -> Starlette:
    """The page's ASGI application on `cfg` (credentials: from cfg.web.password_file)."""
    if credentials is None:
        credentials = read_credentials(cfg.web.password_file)
    web = WebApp(cfg, credentials)
    web.templates.globals["duration"] = timeline.duration
    # Compiled here, not by the first request's worker thread: compiling's transient
    # megabyte is then reused by what the page allocates next instead of staying in that
    # thread's malloc arena (0.4 MB less at idle); a broken template stops the start.
    for name in web.templates.list_templates(extensions=["html"]):
        web.templates.get_template(name)
    routes = [
        *timeline.routes(web),
        *events.routes(web),
        *strangers.routes(web),
        *gallery.routes(web),
        *status.routes(web),
        *login.routes(web),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        limit_threads()
        yield
        web.db.dispose()

    app = Starlette(
        routes=routes,
        # The trim outermost: it runs once a response has gone out whole.
        middleware=[Middleware(TrimWhenIdle), Middleware(SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.web = web
    return app
