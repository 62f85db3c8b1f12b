"""Unknown identities for people: the queries and writes naming one needs, and the listing.

Naming one (its crops into the gallery, then its rows) is a use case above the
store: watcher.usecases.naming. SQLAlchemy Core only: `watcher faces unknown` and
the review page's strangers list load no ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update

from watcher.store.locking import lock_identities
from watcher.store.tables import event_identities, events, sightings, unknown_identities


@dataclass(frozen=True, slots=True)
class IdentityRecord:
    """One unknown identity, as plain data."""

    label: str
    events: int
    sightings: int
    first_seen: datetime
    last_seen: datetime
    crop_path: str | None  # the crop of its largest face
    named_as: str | None
    host: str | None
    event_ids: tuple[str, ...]  # newest first

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 with zone)."""
        return {
            "label": self.label,
            "events": self.events,
            "sightings": self.sightings,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "crop": self.crop_path,
            "named_as": self.named_as,
            "host": self.host,
            "event_ids": list(self.event_ids),
        }


@dataclass(frozen=True, slots=True)
class IdentityRef:
    """An unknown identity as naming needs it."""

    id: int
    label: str
    named_as: str | None


def list_unknown(engine: Engine, recent_events: int | None = None) -> list[IdentityRecord]:
    """Every unknown identity (named ones too), most recently seen first, with its
    events' ids (only its `recent_events` newest, when given)."""
    link, u = event_identities.c, unknown_identities.c
    newest_first = (events.c.started_at.desc(), events.c.id.desc())
    query = select(link.identity_id, link.event_id).join(events, events.c.id == link.event_id)
    if recent_events is None:
        query = query.order_by(*newest_first)
    else:
        # A visitor of years has thousands of events; a page shows a few. Ranked in the
        # database (a window function: SQLite 3.25+, PostgreSQL, MySQL 8), so only
        # those few rows reach Python (measured with 10,000 events: the strangers page
        # took 110 ms and 2-7 MB more of the page's memory for ids it never showed).
        rank = func.row_number().over(partition_by=link.identity_id, order_by=newest_first)
        ranked = query.add_columns(rank.label("rank")).subquery()
        query = (
            select(ranked.c.identity_id, ranked.c.event_id)
            .where(ranked.c.rank <= recent_events)
            .order_by(ranked.c.identity_id, ranked.c.rank)
        )
    with engine.connect() as conn:
        links: dict[int, list[str]] = {}
        if recent_events != 0:  # 0: no event ids wanted, none fetched
            for identity_id, event_id in conn.execute(query):
                links.setdefault(identity_id, []).append(event_id)
        rows = conn.execute(
            select(
                u.id,
                u.label,
                u.events,
                u.sightings,
                u.first_seen,
                u.last_seen,
                u.crop_path,
                u.named_as,
                u.host,
            ).order_by(u.last_seen.desc(), u.id.desc())
        )
        return [
            IdentityRecord(
                label=row.label,
                events=row.events,
                sightings=row.sightings,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                crop_path=row.crop_path,
                named_as=row.named_as,
                host=row.host,
                event_ids=tuple(links.get(row.id, ())),
            )
            for row in rows
        ]


def find_identity(engine: Engine, label: str) -> IdentityRef | None:
    """The identity of `label`, or None."""
    u = unknown_identities.c
    with engine.connect() as conn:
        row = conn.execute(select(u.id, u.label, u.named_as).where(u.label == label)).first()
    return None if row is None else IdentityRef(row.id, row.label, row.named_as)


def identity_crops(engine: Engine, identity_id: int) -> list[Path]:
    """The identity's crop paths, best first: each event's largest face, then the rest."""
    s = sightings.c
    height = (s.bottom - s.top).label("px")
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.crop_path, s.event_id, height)
            .where(s.identity_id == identity_id, s.crop_path.is_not(None))
            .order_by(height.desc(), s.id)
        ).all()
    # Largest per event first: several events give views that differ more than frames do.
    firsts: list[str | None] = []
    rest: list[str | None] = []
    seen: set[str] = set()
    for crop, event_id, _ in rows:
        (rest if event_id in seen else firsts).append(crop)
        seen.add(event_id)
    ordered = dict.fromkeys(firsts + rest)  # one path once, order kept
    return [Path(p) for p in ordered if p is not None]


def mark_named(engine: Engine, identity_id: int, name: str) -> tuple[int, int]:
    """Relabel the identity's sightings with `name` and mark it named; (sightings, events)."""
    with engine.begin() as conn:
        lock_identities(conn)
        relabelled = conn.execute(
            update(sightings).where(sightings.c.identity_id == identity_id).values(name=name)
        )
        conn.execute(
            update(unknown_identities)
            .where(unknown_identities.c.id == identity_id)
            .values(named_as=name)
        )
        visits = conn.scalar(
            select(func.count())
            .select_from(event_identities)
            .where(event_identities.c.identity_id == identity_id)
        )
    return relabelled.rowcount, visits or 0
