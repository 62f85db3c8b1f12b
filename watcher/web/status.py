"""The status page: what `watcher status` shows, each camera's last event, the disk."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from watcher.store import EventRecord, list_events
from watcher.web.site import Unavailable, WebApp

# The daemon's status file (watcher.pipeline.status.STATUS_FILE, read here without
# importing the pipeline), stale when older than `watcher status` says (rewritten every 10 s).
STATUS_FILE: Final = "status.json"
STALE_S: Final = 45.0
GB: Final = 1024**3


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
    return {"total": usage.total / GB, "used": usage.used / GB, "free": usage.free / GB}


def routes(web: WebApp) -> list[BaseRoute]:
    """The status page's route."""
    cfg = web.cfg

    def status_page(request: Request) -> Response:
        """What `watcher status` shows, plus each camera's last event and the disk."""
        if (refused := web.gate(request)) is not None:
            return refused
        daemon = read_daemon_status(cfg.recordings_dir)
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
                "disk": disk_use(cfg.recordings_dir),
                "retention": cfg.retention,
            },
        )

    return [Route("/status", status_page)]
