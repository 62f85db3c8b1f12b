"""The gallery page: known people and their photos, the `faces check` report, and photos
added or removed through the `watcher faces` commands themselves."""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from watcher.constants import GALLERY_IMAGE_EXTS
from watcher.faces.watchlist import watched
from watcher.web.commands import Outcome, check_by_command, run_faces
from watcher.web.files import file_response, resolve_under
from watcher.web.site import MAX_NAME, VIEWER_REFUSED, WebApp
from watcher.web.upload import UploadError, read_upload, save_files

log = logging.getLogger("watcher.web")

PAGE: Final = "/gallery"
# A person's name as a plain folder name; `faces add` and `faces remove` validate it fully.
PLAIN: Final = re.compile(r"^[^/\\\0.][^/\\\0]{0,254}$")
IMAGE_MEDIA: Final = {".png": "image/png", ".bmp": "image/bmp", ".webp": "image/webp"}


@dataclass(frozen=True)
class Person:
    """One known person as the page shows them."""

    name: str
    photos: list[str]  # file names: known_faces/<name>/<photo>, or known_faces/<photo>
    alert: bool  # on the watch-list (people.<name>.alert, or the folder's marker)
    by_config: bool = False  # people.<name>.alert: only the config file can take it off


def scan_people(folder: Path, config_alerts: frozenset[str]) -> list[Person]:
    """The gallery's people and photo names, as the gallery reads them (by extension),
    without opening a photo: the page never loads OpenCV or dlib for a listing."""
    found: dict[str, list[str]] = {}
    if not folder.is_dir():
        return []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue  # .cache, .learned: the gallery's own
        if entry.is_dir():
            found.setdefault(entry.name, []).extend(
                p.name
                for p in sorted(entry.iterdir())
                if p.is_file()
                and not p.name.startswith(".")
                and p.suffix.lower() in GALLERY_IMAGE_EXTS
            )
        elif entry.is_file() and entry.suffix.lower() in GALLERY_IMAGE_EXTS:
            found.setdefault(entry.stem, []).append(entry.name)
    alerts = config_alerts | watched(folder)
    return [
        Person(name, photos, name in alerts, name in config_alerts)
        for name, photos in sorted(found.items())
    ]


def photo_path(folder: Path, name: str, photo: str) -> Path | None:
    """The real path of a person's photo inside the gallery, or None."""
    if not PLAIN.match(name) or not PLAIN.match(photo):
        return None
    inside = resolve_under(folder, str(folder / name / photo))
    if inside is not None and inside.parent == Path(folder / name).resolve():
        return inside
    single = resolve_under(folder, str(folder / photo))  # known_faces/<name>.jpg
    if single is not None and single.stem == name and single.parent == folder.resolve():
        return single
    return None


def _shown(outcome: Outcome, tmp: Path) -> list[str]:
    """The command's lines with the upload's temporary folders left out of file names."""
    return [re.sub(re.escape(str(tmp)) + r"/\d+/", "", line) for line in outcome.lines]


def routes(web: WebApp) -> list[BaseRoute]:
    """The gallery page, its photos, the check, uploads and removals."""
    cfg = web.cfg
    folder = cfg.known_faces_dir

    def gallery(request: Request) -> Response:
        if (refused := web.gate(request)) is not None:
            return refused
        removed = request.query_params.get("removed", "")
        return web.render(
            request,
            "gallery.html",
            {
                "people": scan_people(folder, cfg.alert_names()),
                "removed": removed if PLAIN.match(removed) else "",
            },
        )

    async def check(request: Request) -> Response:
        """The gallery quality report of `watcher faces check` (it loads the face engine)."""
        if (refused := web.gate(request)) is not None:
            return refused
        report, lines = await web.run_command(check_by_command, cfg)
        return web.render(
            request, "gallery_check.html", {"report": report, "lines": lines}, status=200
        )

    def photo(request: Request) -> Response:
        if (refused := web.file_gate(request)) is not None:
            return refused
        path = photo_path(folder, request.path_params["name"], request.path_params["photo"])
        if path is None:
            return Response("not found", status_code=404)
        response = file_response(path, request.headers.get("range"))
        if path.suffix.lower() in IMAGE_MEDIA:
            response.headers["content-type"] = IMAGE_MEDIA[path.suffix.lower()]
        return response

    async def upload(request: Request) -> Response:
        """Photos for a person, checked and copied by `watcher faces add` itself."""
        if (refused := web.gate(request)) is not None:
            return refused
        try:
            form = await read_upload(request)
        except UploadError as exc:
            # Its CSRF token could not be read; nothing changed, so the refusal is enough.
            if not web.can_change(web.session(request)):
                return web.error(request, 403, VIEWER_REFUSED)
            return web.error(request, exc.status, f"Not added: {exc}.")
        if (refused := web.change_refusal(request, form.fields.get("csrf", ""))) is not None:
            return refused
        name = form.fields.get("name", "").strip()
        if not name or len(name) > MAX_NAME:
            return web.error(request, 400, "Give the person's name (at most 63 characters).")
        if not form.files:
            return web.error(request, 400, "Choose at least one photo.")
        with tempfile.TemporaryDirectory(prefix="watcher-upload-") as tmp:
            paths = save_files(form.files, Path(tmp))
            outcome = await web.run_command(run_faces, cfg, "add", name, *map(str, paths))
            lines = _shown(outcome, Path(tmp))
        log.info("web: %d photo(s) offered for %s from the page", len(paths), name)
        return web.render(
            request,
            "gallery_added.html",
            {"name": name, "ok": outcome.ok, "lines": lines},
            status=200 if outcome.ok else 422,
        )

    async def remove(request: Request) -> Response:
        """A photo of a person, or the person, removed by `watcher faces remove` itself."""
        form, refused = await web.admin_change(request)
        if refused is not None:
            return refused
        name = request.path_params["name"]
        photo_name = form.get("photo", "")
        args = [name, photo_name] if photo_name else [name]
        outcome = await web.run_command(run_faces, cfg, "remove", *args)
        if not outcome.ok:
            return web.error(request, 409, f"Not removed: {outcome.reason}")
        log.info("web: %s removed from the gallery from the page", photo_name or name)
        return RedirectResponse(PAGE + "?" + urlencode({"removed": photo_name or name}), 303)

    async def watch(request: Request) -> Response:
        """Put a person on the watch-list or take them off, by `watcher faces watch/unwatch`."""
        form, refused = await web.admin_change(request)
        if refused is not None:
            return refused
        name = request.path_params["name"]
        verb = "watch" if form.get("on") == "1" else "unwatch"
        outcome = await web.run_command(run_faces, cfg, verb, name)
        if not outcome.ok:
            return web.error(request, 409, f"Not changed: {outcome.reason}")
        log.info("web: %s %sed from the page", name, verb)
        return RedirectResponse(PAGE + "#person-" + quote(name), 303)

    return [
        Route(PAGE, gallery),
        Route(PAGE + "/{name}/watch", watch, methods=["POST"]),
        Route(PAGE + "/check", check),
        Route(PAGE + "/add", upload, methods=["POST"]),
        Route(PAGE + "/{name}/photo/{photo}", photo),
        Route(PAGE + "/{name}/remove", remove, methods=["POST"]),
    ]
