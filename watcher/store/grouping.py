"""Unknown identities inside one transaction: group embeddings into them (the writer's ORM).

A sighting joins the identity whose centroid (the running mean of its members'
embeddings) is nearest, if within the grouping distance; otherwise it starts a
new identity. Centroids, not every member, are compared: one row per identity
to read, and a mean is steadier than any single frame. The writer thread is the
only caller on a host; on PostgreSQL an advisory lock also serialises hosts.
Recounting identities after rows go is watcher.store.recount (Core, no NumPy).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from watcher.constants import EMBEDDING_SIZE
from watcher.store.blobs import Vector, from_blob, to_blob
from watcher.store.locking import lock_identities
from watcher.store.models import EventIdentity, UnknownIdentity

log = logging.getLogger("watcher.store")

LABEL_PREFIX: Final = "unknown-"
# Stricter than the 0.6 recognition tolerance: two strangers merged is worse than one split.
DEFAULT_GROUP_DISTANCE: Final = 0.5


class Grouper:
    """Assigns unknown embeddings to identities within the caller's transaction."""

    def __init__(self, session: Session, group_distance: float, host: str | None) -> None:
        lock_identities(session)
        self._session = session
        self._distance = group_distance
        self._host = host
        self._rows: list[UnknownIdentity] = []
        vectors: list[Vector] = []
        for row in session.scalars(select(UnknownIdentity).order_by(UnknownIdentity.id)):
            try:
                vectors.append(from_blob(row.centroid))
            except ValueError as exc:  # a damaged row must not stop every later sighting
                log.warning("store: identity %s ignored: %s", row.label, exc)
                continue
            self._rows.append(row)
        self._matrix = np.vstack(vectors) if vectors else np.empty((0, EMBEDDING_SIZE))

    def assign(
        self, vector: Vector, at: datetime, face_px: int, crop_path: str | None
    ) -> UnknownIdentity:
        """The identity this face belongs to, updated with it (or a new one)."""
        if len(self._rows):
            distances = np.linalg.norm(self._matrix - vector, axis=1)
            best = int(distances.argmin())
            if distances[best] <= self._distance:
                self._join(best, vector, at, face_px, crop_path)
                return self._rows[best]
        return self._create(vector, at, face_px, crop_path)

    def link(self, event_id: str, identities: Iterable[UnknownIdentity]) -> None:
        """Record that the event saw these identities; count each event once per identity."""
        wanted = {row.id: row for row in identities}
        if not wanted:
            return
        have = set(
            self._session.scalars(
                select(EventIdentity.identity_id).where(
                    EventIdentity.event_id == event_id, EventIdentity.identity_id.in_(wanted)
                )
            )
        )
        for identity_id in sorted(wanted.keys() - have):
            self._session.add(EventIdentity(event_id=event_id, identity_id=identity_id))
            wanted[identity_id].events += 1

    def _join(
        self, index: int, vector: Vector, at: datetime, face_px: int, crop_path: str | None
    ) -> None:
        row = self._rows[index]
        weight = max(row.sightings, 1)  # retention may have recounted it down to 0
        centroid = (self._matrix[index] * weight + vector) / (weight + 1)
        self._matrix[index] = centroid
        row.centroid = to_blob(centroid)
        row.sightings += 1
        row.first_seen = min(row.first_seen, at)
        row.last_seen = max(row.last_seen, at)
        if crop_path is not None and (row.crop_px is None or face_px > row.crop_px):
            row.crop_path, row.crop_px = crop_path, face_px

    def _create(
        self, vector: Vector, at: datetime, face_px: int, crop_path: str | None
    ) -> UnknownIdentity:
        row = UnknownIdentity(
            # The label needs the id: a unique placeholder until the insert gives one.
            label=f"new-{uuid.uuid4().hex}",
            first_seen=at,
            last_seen=at,
            sightings=1,
            events=0,
            centroid=to_blob(vector),
            crop_path=crop_path,
            crop_px=face_px if crop_path is not None else None,
            host=self._host,
        )
        self._session.add(row)
        self._session.flush()
        row.label = f"{LABEL_PREFIX}{row.id}"
        self._rows.append(row)
        self._matrix = np.vstack([self._matrix, vector[None, :]])
        return row
