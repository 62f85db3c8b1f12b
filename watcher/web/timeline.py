"""The timeline: events newest first, grouped by day, filtered and paginated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from watcher.config.models import CAMERA_NAME_PATTERN
from watcher.faces.watchlist import watched as watched_people
from watcher.store import EventRecord, list_events
from watcher.store.db import identities_of
from watcher.web.queries import watched_in
from watcher.web.site import EVENT_ID, LABEL, Unavailable, WebApp

CAMERA: Final = re.compile(CAMERA_NAME_PATTERN)
REVIEWED_FILTER: Final = {"yes": True, "no": False}
# Query parameters: `date` is one day (older links), `from`/`to` a range of days.
DAY: Final = "date"
FROM: Final = "from"
TO: Final = "to"


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


def cursor(event: EventRecord) -> str:
    """Where the next page starts: after this event."""
    return f"{event.started_at.isoformat()}~{event.id}"


def parse_cursor(text: str | None) -> tuple[datetime, str] | None:
    """The (started_at, id) a `before` parameter names, or None if it names nothing."""
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


def parse_day(text: str | None) -> date | None:
    """A `YYYY-MM-DD` day, or None for anything else."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def local_midnight(day: date) -> datetime:
    """The start of a day in this machine's time zone."""
    return datetime(day.year, day.month, day.day).astimezone()


def day_range(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """(since, until) of the days from `first` to `last`, both included, either open."""
    if first is not None and last is not None and last < first:
        first, last = last, first  # a range typed backwards still means those days
    since = local_midnight(first) if first else None
    until = local_midnight(last + timedelta(days=1)) if last else None
    return since, until


def routes(web: WebApp) -> list[BaseRoute]:
    """The timeline's route."""

    def timeline(request: Request) -> Response:
        if (refused := web.gate(request)) is not None:
            return refused
        params = request.query_params
        camera = params.get("camera") or None
        if camera is not None and not CAMERA.match(camera):
            return web.error(request, 400, "No such camera.")
        one_day = parse_day(params.get(DAY))
        first = one_day or parse_day(params.get(FROM))
        last = one_day or parse_day(params.get(TO))
        reviewed = REVIEWED_FILTER.get(params.get("reviewed", ""))
        identity = params.get("identity") or None
        if identity is not None and not LABEL.match(identity):
            return web.error(request, 400, "No such stranger.")
        before = parse_cursor(params.get("before"))
        size = web.cfg.web.page_size
        since, until = day_range(first, last)
        try:
            engine = web.db.engine()
            events = (
                []
                if engine is None
                else list_events(
                    engine,
                    camera=camera,
                    since=since,
                    until=until,
                    before=before,
                    limit=size + 1,
                    reviewed=reviewed,
                    identity=identity,
                )
            )
            ids = [e.id for e in events]
            seen = {} if engine is None else identities_of(engine, ids)
            watched = (
                {}
                if engine is None
                else watched_in(
                    engine, ids, web.cfg.alert_names() | watched_people(web.cfg.known_faces_dir)
                )
            )
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
                (FROM, first and first.isoformat()),
                (TO, last and last.isoformat()),
                ("reviewed", shown),
                ("identity", identity),
            )
            if v
        }
        next_url = "/?" + urlencode({**query, "before": cursor(events[-1])}) if more else None
        return web.render(
            request,
            "timeline.html",
            {
                "days": group_by_day(events),
                "cameras": web.cameras(),
                "camera": camera or "",
                "first": first.isoformat() if first else "",
                "last": last.isoformat() if last else "",
                "reviewed": shown,
                "identity": identity or "",
                "seen": seen,
                "watched": watched,
                "next_url": next_url,
                "first_url": ("/?" + urlencode(query)) if before else None,
                "no_database": engine is None,
                "deleted": deleted if EVENT_ID.match(deleted) else "",
            },
        )

    return [Route("/", timeline)]
