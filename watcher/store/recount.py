"""Recount unknown identities after their rows changed: SQLAlchemy Core, no NumPy.

Retention, privacy expiry and the page's merge or delete call it inside their
transaction; none of them needs the grouping's NumPy or the ORM for it.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, Connection, func, select, update

from watcher.store.locking import lock_identities
from watcher.store.tables import event_identities, sightings, unknown_identities


def _count(conn: Connection, condition: ColumnElement[bool]) -> int:
    """Rows matching `condition` (of the one table it names)."""
    return conn.scalar(select(func.count()).where(condition)) or 0


def refresh_identities(conn: Connection, ids: Collection[int]) -> None:
    """Recount identities' stored events and sightings and re-pick their largest crop."""
    if not ids:
        return
    lock_identities(conn)  # no count may change between reading and writing it
    s = sightings.c
    height = (s.bottom - s.top).label("px")
    for identity_id in sorted(set(ids)):
        best = conn.execute(
            select(s.crop_path, height)
            .where(s.identity_id == identity_id, s.crop_path.is_not(None))
            .order_by(height.desc(), s.id.desc())
            .limit(1)
        ).first()
        # An identity deleted meanwhile matches no row: nothing to update, as before.
        conn.execute(
            update(unknown_identities)
            .where(unknown_identities.c.id == identity_id)
            .values(
                events=_count(conn, event_identities.c.identity_id == identity_id),
                sightings=_count(conn, s.identity_id == identity_id),
                crop_path=best[0] if best else None,
                crop_px=int(best[1]) if best else None,
            )
        )
