"""The few reads only the page needs: an event's neighbours on the timeline, and the
watch-listed people a page of events saw."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session

from watcher.store.models import Event, Sighting


@dataclass(frozen=True)
class Neighbours:
    """The events just newer and just older than one, in the timeline's order."""

    newer: str | None
    older: str | None


def neighbours(engine: Engine, started_at: datetime, event_id: str) -> Neighbours:
    """The ids around an event (newest first, ties by id), through the started_at index."""
    after = or_(
        Event.started_at > started_at, and_(Event.started_at == started_at, Event.id > event_id)
    )
    before = or_(
        Event.started_at < started_at, and_(Event.started_at == started_at, Event.id < event_id)
    )
    with Session(engine) as session:
        newer = session.scalar(
            select(Event.id).where(after).order_by(Event.started_at, Event.id).limit(1)
        )
        older = session.scalar(
            select(Event.id)
            .where(before)
            .order_by(Event.started_at.desc(), Event.id.desc())
            .limit(1)
        )
    return Neighbours(newer, older)


def watched_in(
    engine: Engine, event_ids: list[str], watch_list: Collection[str]
) -> dict[str, list[str]]:
    """The watch-listed people each of these events saw (one query, by the event index)."""
    if not event_ids or not watch_list:
        return {}
    query = (
        select(Sighting.event_id, Sighting.name)
        .where(Sighting.event_id.in_(event_ids), Sighting.name.in_(sorted(watch_list)))
        .distinct()
        .order_by(Sighting.event_id, Sighting.name)
    )
    out: dict[str, list[str]] = {}
    with Session(engine) as session:
        for event_id, name in session.execute(query):
            if name is not None:  # the IN excludes it; the column's type does not say so
                out.setdefault(event_id, []).append(name)
    return out
