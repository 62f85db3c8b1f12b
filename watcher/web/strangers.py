"""The strangers page: every unknown identity, named whole ("this is Alice") after a
preview, merged with another, forgotten, or its naming undone."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final
from urllib.parse import urlencode

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from watcher.store import list_unknown
from watcher.usecases.strangers import (
    NAMING_PHOTOS,
    IdentityError,
    forget_identity,
    merge_identities,
    naming_candidates,
)
from watcher.web.commands import name_by_command, run_faces
from watcher.web.files import file_response, resolve_under
from watcher.web.site import LABEL, MAX_NAME, Unavailable, WebApp

log = logging.getLogger("watcher.web")

CROPS_SHOWN: Final = 4  # best crops of a stranger on the strangers page
VISITS_SHOWN: Final = 5  # its newest events linked from a stranger on the strangers page
# The preview shows the crops naming tries first: it adds the first NAMING_PHOTOS
# that show one usable face, so a few more than that are shown in case some are refused.
CROPS_PREVIEWED: Final = 2 * NAMING_PHOTOS
NO_STRANGER: Final = "No such stranger."
NAME_NEEDED: Final = "Give a name (at most 63 characters)."
PAGE: Final = "/strangers"
DONE_KEYS: Final = ("merged", "into", "forgotten", "undone")


def served_crops(engine: Engine, recordings: Path, label: str) -> list[Path]:
    """The crops naming would try, best first, those the page may serve (under recordings)."""
    try:
        crops = naming_candidates(engine, label, CROPS_PREVIEWED)
    except IdentityError:
        return []
    return [p for p in crops if resolve_under(recordings, str(p)) is not None]


def routes(web: WebApp) -> list[BaseRoute]:
    """The strangers page, its crops, and the changes made to identities."""
    cfg = web.cfg
    recordings = cfg.recordings_dir

    def done(**what: str) -> Response:
        """Back to the strangers page, saying what was done (labels only: never free text)."""
        return RedirectResponse(PAGE + "?" + urlencode(what), 303)

    def strangers(request: Request) -> Response:
        if (refused := web.gate(request)) is not None:
            return refused
        try:
            engine = web.db.engine()
            identities = [] if engine is None else list_unknown(engine, VISITS_SHOWN)
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        unnamed = [who.label for who in identities if who.named_as is None]
        return web.render(
            request,
            "strangers.html",
            {
                "identities": identities,
                "unnamed": unnamed,
                "crops": range(CROPS_SHOWN),
                # What the last change did: labels only, so a link cannot put words here.
                "done": {
                    key: value
                    for key in DONE_KEYS
                    if LABEL.match(value := request.query_params.get(key, ""))
                },
            },
        )

    def preview(request: Request) -> Response:
        """The crops that naming would add, before it is done."""
        if (refused := web.gate(request)) is not None:
            return refused
        label = request.path_params["label"]
        name = request.query_params.get("name", "").strip()
        if not LABEL.match(label):
            return web.error(request, 404, NO_STRANGER)
        if not name or len(name) > MAX_NAME:
            return web.error(request, 400, NAME_NEEDED)
        try:
            engine = web.db.engine()
            crops = [] if engine is None else served_crops(engine, recordings, label)
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        return web.render(
            request,
            "preview.html",
            {
                "label": label,
                "name": name,
                "crops": range(len(crops)),
                "most": NAMING_PHOTOS,
            },
        )

    async def name_stranger(request: Request) -> Response:
        """ "This is Alice": the whole identity at once, by `watcher faces name` itself."""
        form, refused = await web.admin_change(request)
        if refused is not None:
            return refused
        label = request.path_params["label"]
        name = form.get("name", "").strip()
        if not LABEL.match(label):
            return web.error(request, 404, NO_STRANGER)
        if not name or len(name) > MAX_NAME:
            return web.error(request, 400, NAME_NEEDED)
        ok, lines = await web.run_command(name_by_command, cfg, label, name)
        return web.render(
            request,
            "named.html",
            {"label": label, "name": name, "ok": ok, "lines": lines},
            status=200 if ok else 409,
        )

    async def identity_change(request: Request) -> tuple[dict[str, str], str, Response | None]:
        """admin_change for one identity: its form, its label, or the refusal."""
        form, refused = await web.admin_change(request)
        label = request.path_params["label"]
        if refused is None and not LABEL.match(label):
            refused = web.error(request, 404, NO_STRANGER)
        return form, label, refused

    async def merge(request: Request) -> Response:
        """Two identities that are one person: `other` joins this one."""
        form, label, refused = await identity_change(request)
        if refused is not None:
            return refused
        other = form.get("other", "")
        if not LABEL.match(other):
            return web.error(request, 400, "Choose the stranger to merge with.")
        try:
            engine = web.db.engine()
            if engine is None:
                return web.error(request, 404, NO_STRANGER)
            merged = await run_in_threadpool(merge_identities, engine, label, other)
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        except IdentityError as exc:
            return web.error(request, 409, f"Not merged: {exc}.")
        log.info("web: %s merged into %s from the page", other, label)
        return done(merged=merged.gone, into=merged.kept)

    async def forget(request: Request) -> Response:
        """Not a face (or no one worth keeping): the identity goes, its events stay."""
        _form, label, refused = await identity_change(request)
        if refused is not None:
            return refused
        try:
            engine = web.db.engine()
            if engine is None:
                return web.error(request, 404, NO_STRANGER)
            await run_in_threadpool(forget_identity, engine, label)
        except Unavailable as exc:
            return web.error(request, 503, str(exc))
        except IdentityError as exc:
            return web.error(request, 409, f"Not forgotten: {exc}.")
        log.info("web: %s forgotten from the page", label)
        return done(forgotten=label)

    async def undo(request: Request) -> Response:
        """Undo a naming: the photos it added go, the face is a stranger again."""
        _form, label, refused = await identity_change(request)
        if refused is not None:
            return refused
        # By `watcher faces unname` itself, in a process of its own: removing gallery
        # photos needs the gallery's module, and with it NumPy and OpenCV (40 MB the
        # page would keep for the rest of its life).
        outcome = await web.run_command(run_faces, cfg, "unname", label)
        if not outcome.ok:
            return web.error(request, 409, f"Not undone: {outcome.reason}")
        log.info("web: naming of %s undone from the page", label)
        return done(undone=label)

    def stranger_crop(request: Request) -> Response:
        if (refused := web.file_gate(request)) is not None:
            return refused
        label = request.path_params["label"]
        index = request.path_params["index"]
        if not LABEL.match(label) or not 0 <= index < CROPS_PREVIEWED:
            return Response("not found", status_code=404)
        try:
            engine = web.db.engine()
            crops = [] if engine is None else served_crops(engine, recordings, label)
        except Unavailable:
            return Response("database unavailable", status_code=503)
        path = resolve_under(recordings, str(crops[index])) if index < len(crops) else None
        if path is None:
            return Response("not found", status_code=404)
        return file_response(path, request.headers.get("range"))

    return [
        Route(PAGE, strangers),
        Route(PAGE + "/{label}/crop/{index:int}", stranger_crop),
        Route(PAGE + "/{label}/preview", preview),
        Route(PAGE + "/{label}/name", name_stranger, methods=["POST"]),
        Route(PAGE + "/{label}/merge", merge, methods=["POST"]),
        Route(PAGE + "/{label}/forget", forget, methods=["POST"]),
        Route(PAGE + "/{label}/undo", undo, methods=["POST"]),
    ]
