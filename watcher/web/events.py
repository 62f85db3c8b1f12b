"""An event's page and files (clip by HTTP Range, snapshot, face), its review and deletion."""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from watcher.config import mask_url
from watcher.store import get_event
from watcher.store.db import set_reviewed
from watcher.web.files import clip_codec, file_response, resolve_under
from watcher.web.queries import neighbours
from watcher.web.site import EVENT_ID, Unavailable, WebApp

log = logging.getLogger("watcher.web")

KINDS: Final = ("clip", "snapshot", "face")
NO_EVENT: Final = "No such event: retention may have removed it."


def routes(web: WebApp) -> list[BaseRoute]:
    """The event page, its files, and the changes made to it."""
    recordings = web.cfg.recordings_dir

    async def event_change(request: Request) -> tuple[dict[str, str], str, Response | None]:
        """admin_change for one event: its form, its id, or the refusal (404: no such id)."""
        form, refused = await web.admin_change(request)
        event_id = request.path_params["event_id"]
        if refused is None and not EVENT_ID.match(event_id):
            refused = web.error(request, 404, "No such event.")
        return form, event_id, refused

    def event_page(request: Request) -> Response:
        if (refused := web.gate(request)) is not None:
            return refused
        event_id = request.path_params["event_id"]
        if not EVENT_ID.match(event_id):
            return web.error(request, 404, "No such event.")
        try:
            engine = web.db.engine()
            event = None if engine is None else get_event(engine, event_id)
            around = (
                None
                if engine is None or event is None
                else neighbours(engine, event.started_at, event.id)
            )
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        if event is None or around is None:
            return web.error(request, 404, NO_EVENT)
        camera = web.cfg.cameras.get(event.camera)
        clip = resolve_under(recordings, event.clip_path)
        return web.render(
            request,
            "event.html",
            {
                "event": event,
                "around": around,
                "camera_source": mask_url(camera.source) if camera else "",
                "has_clip": clip is not None,
                "codec": clip_codec(clip) if clip is not None else None,
                "has_snapshot": resolve_under(recordings, event.snapshot_path) is not None,
                "has_face": resolve_under(recordings, event.face_path) is not None,
            },
        )

    def event_file(request: Request) -> Response:
        if (refused := web.file_gate(request)) is not None:
            return refused
        event_id = request.path_params["event_id"]
        kind = request.path_params["kind"]
        if not EVENT_ID.match(event_id) or kind not in KINDS:
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
        _form, event_id, refused = await event_change(request)
        if refused is not None:
            return refused
        # Imported here: deleting reaches housekeeping's removal, which looking never needs.
        from watcher.usecases.events import EventNotDeleted, delete_event

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
            return web.error(request, 404, NO_EVENT)
        return RedirectResponse(f"/events/{event_id}", 303)

    return [
        Route("/events/{event_id}", event_page),
        Route("/events/{event_id}/delete", delete, methods=["POST"]),
        Route("/events/{event_id}/reviewed", review, methods=["POST"]),
        Route("/events/{event_id}/{kind}", event_file),
    ]
