"""Running the review page: uvicorn (pure Python: h11, asyncio) on the configured address."""

from __future__ import annotations

import gc
import logging

from watcher.config import WatcherConfig
from watcher.web.auth import AuthError, bind_refusal, read_credentials

log = logging.getLogger("watcher.web")


class Refused(Exception):
    """The page must not start; the message says why, in one line."""


def serve(cfg: WatcherConfig, host: str, port: int) -> None:
    """Serve the page until SIGINT or SIGTERM; Refused when it must not listen there."""
    import uvicorn

    from watcher.web.app import create_app
    from watcher.web.bytecode import preload
    from watcher.web.memory import one_arena

    try:
        credentials = read_credentials(cfg.web.password_file)
    except AuthError as exc:
        raise Refused(str(exc)) from None
    reason = bind_refusal(host, credentials)
    if reason is not None:
        raise Refused(reason)
    one_arena()
    app = create_app(cfg, credentials)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        loop="asyncio",
        ws="none",
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        # Only the configured proxies' X-Forwarded-For / -Proto are believed.
        proxy_headers=bool(cfg.web.trusted_proxies),
        forwarded_allow_ips=",".join(cfg.web.trusted_proxies) or None,
        timeout_graceful_shutdown=5,
    )
    preload()  # what the first request would import, frozen with the rest below
    # The command line froze start-up's objects unseen (watcher.cli.startup), its few
    # cycles of garbage too (the parser, the YAML loader: 0.8 MB). The page lives long:
    # free them once (40 ms), then keep what stays out of later collections again.
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    shown = f"[{host}]" if ":" in host else host
    log.info("web: the review page is at http://%s:%d/", shown, port)
    if credentials is None:
        log.info("web: no password set (this machine only); `watcher web passwd` sets one")
    uvicorn.Server(config).run()
