"""The notifications outbox, as the store's writer fills it: one row per message and target.

A message reports one change of an event (`new`, `update`, `end`) in the shape Frigate
users know, `{"type", "before", "after"}`, plus its stable `id`. The writer adds the rows
in the transaction of the change itself, so a crash keeps both or neither; the notify
dispatcher (watcher/notify/) delivers and deletes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from watcher.store.models import Event, EventIdentity, Notification, UnknownIdentity, utcnow
from watcher.store.tables import PENDING

KINDS: Final = ("new", "update", "end")
SEEN: Final = "seen"  # a known person was seen (presence; no event)
WATCH_LIST_PREFIX: Final = "watch-list: "  # how decide/ words a watch-listed person's verdict
# Event fields whose change is worth an `update` message (the snapshot, the verdict).
UPDATE_FIELDS: Final = frozenset({"snapshot_path", "face_path", "decision"})

# target -> the message kinds it takes; "mqtt" or "webhook:<key>".
Targets = Mapping[str, frozenset[str]]


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 in the host's zone, with its offset."""
    return None if value is None else value.astimezone().isoformat()


def identity_of(session: Session, event_id: str) -> tuple[str | None, int | None]:
    """The event's unknown identity (`unknown-N`, or the name it was given), if grouped
    yet, and how many events (visits) it has."""
    row = session.execute(
        select(UnknownIdentity.label, UnknownIdentity.named_as, UnknownIdentity.events)
        .join(EventIdentity, EventIdentity.identity_id == UnknownIdentity.id)
        .where(EventIdentity.event_id == event_id)
        .order_by(UnknownIdentity.id)
        .limit(1)
    ).first()
    if row is None:
        return None, None
    return str(row.named_as or row.label), int(row.events)


def event_document(session: Session, event: Event) -> dict[str, Any]:
    """What a message says of an event (its `before` or `after`)."""
    identity, visits = identity_of(session, event.id)
    decision = event.decision or ""
    watched = decision.startswith(WATCH_LIST_PREFIX)
    return {
        "id": event.id,
        "camera": event.camera,
        "host": event.host,
        "status": event.status,
        "start_time": _iso(event.started_at),
        "end_time": _iso(event.ended_at),
        # unknown: a stranger; watch_listed: a known person on the watch-list (`person`).
        "kind": "watch_listed" if watched else "unknown",
        "person": decision[len(WATCH_LIST_PREFIX) :].split(";")[0].strip() if watched else None,
        "identity": identity,
        "visits": visits,
        "closest_distance": event.closest_distance,
        "faces": event.faces,
        "decision": event.decision,
        "snapshot": event.snapshot_path,
        "face": event.face_path,
        "clip": event.clip_path,
    }


def _queue(
    session: Session,
    wanted: list[str],
    body: dict[str, Any],
    *,
    event_id: str,
    camera: str,
    kind: str,
) -> int:
    """A pending row of the message `body` (its "id" the message id) per target in `wanted`."""
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True)
    now = utcnow()
    for target in wanted:
        session.add(
            Notification(
                message_id=body["id"],
                event_id=event_id,
                camera=camera,
                kind=kind,
                target=target,
                payload=payload,
                created_at=now,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
            )
        )
    return len(wanted)


def add_presence(session: Session, targets: Targets, person: str, camera: str, at: datetime) -> int:
    """Add a `seen` message (a known person, where and when) for every target that takes it."""
    wanted = [target for target, kinds in targets.items() if SEEN in kinds]
    if not wanted:
        return 0
    message_id = f"msg_{uuid.uuid4().hex}"
    body = {"id": message_id, "type": SEEN, "person": person, "camera": camera, "time": _iso(at)}
    return _queue(session, wanted, body, event_id="", camera=camera, kind=SEEN)


def add_messages(
    session: Session,
    targets: Targets,
    kind: str,
    event: Event,
    before: dict[str, Any] | None,
) -> int:
    """Add the rows of one message for every target that takes `kind`; return how many."""
    wanted = [target for target, kinds in targets.items() if kind in kinds]
    if not wanted:
        return 0
    message_id = f"msg_{uuid.uuid4().hex}"
    session.flush()  # the event's row as it is now (and its identity links)
    body = {
        "id": message_id,
        "type": kind,
        "before": before,
        "after": event_document(session, event),
    }
    return _queue(session, wanted, body, event_id=event.id, camera=event.camera, kind=kind)
