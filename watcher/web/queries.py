"""The few reads only the page needs: an event's neighbours on the timeline, and the
watch-listed people a page of events saw. SQLAlchemy Core: the page loads no ORM."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from watcher.store.db import newer_than, older_than
from watcher.store.tables import events, sightings


@dataclass(frozen=True)
class Neighbours:
    """The events just newer and just older than one, in the timeline's order."""

    newer: str | None
    older: str | None


def neighbours(engine: Engine, started_at: datetime, event_id: str) -> Neighbours:
    """The ids around an event (newest first, ties by id), through the started_at index."""
    e = events.c
    after, before = newer_than(started_at, event_id), older_than(started_at, event_id)
    with engine.connect() as conn:
        newer = conn.scalar(select(e.id).where(after).order_by(e.started_at, e.id).limit(1))
        older = conn.scalar(
            select(e.id).where(before).order_by(e.started_at.desc(), e.id.desc()).limit(1)
        )
    return Neighbours(newer, older)


def watched_in(
    engine: Engine, event_ids: list[str], watch_list: Collection[str]
) -> dict[str, list[str]]:
    """The watch-listed people each of these events saw (one query, by the event index)."""
    if not event_ids or not watch_list:
        return {}
    s = sightings.c
    query = (
        select(s.event_id, s.name)
        .where(s.event_id.in_(event_ids), s.name.in_(sorted(watch_list)))
        .distinct()
        .order_by(s.event_id, s.name)
    )
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for event_id, name in conn.execute(query):
            if name is not None:  # the IN excludes it; the column's type does not say so
                out.setdefault(event_id, []).append(name)
    return out
