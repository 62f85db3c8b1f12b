"""What housekeeping manages: watcher's media files under recordings_dir, and the event rows.

Media names are <HHMMSS>-<event id>.mp4 | .jpg | -face.jpg (watcher.record.paths)
| -face-<n>.jpg (the crop of one sighting). Other files (the database, a backup)
are never watcher's to remove or to count.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, NamedTuple

from sqlalchemy import Engine, select

from watcher.constants import CLIP_EXT, FACE_CROP_SUFFIX, SNAPSHOT_EXT
from watcher.record.paths import event_paths
from watcher.store.tables import events, sightings

FIELDS: Final = ("clip_path", "snapshot_path", "face_path")  # an event row's file paths
# Unknown-face crops of single sightings: <HHMMSS>-<event id>-face-<n>.jpg. Their
# paths are in sightings rows, not in the event's: they go with their event, and
# a crop no sighting names (privacy expiry failed half-way, a lost write) is an orphan.
SIGHTING_CROP: Final = "sighting_crop"
_SIGHTING_CROP_RE: Final = re.escape(FACE_CROP_SUFFIX.removesuffix(SNAPSHOT_EXT)) + (
    r"-\d+" + re.escape(SNAPSHOT_EXT)
)
_MEDIA = re.compile(
    r"^\d{6}-(?P<id>[0-9A-Za-z]+)(?:(?P<crop>"
    + _SIGHTING_CROP_RE
    + r")|(?P<kind>"
    + "|".join(re.escape(s) for s in (FACE_CROP_SUFFIX, CLIP_EXT, SNAPSHOT_EXT))
    + r"))$"
)
_KIND_FIELD: Final = {
    CLIP_EXT: "clip_path",
    SNAPSHOT_EXT: "snapshot_path",
    FACE_CROP_SUFFIX: "face_path",
}


class FileMeta(NamedTuple):
    """A regular file found on disk."""

    size: int
    mtime: float


@dataclass(slots=True)
class EventRow:
    """One event row as housekeeping sees it."""

    id: str
    camera: str
    started_at: datetime
    status: str
    mine: bool  # this host may manage it: its host (or none) and its files under the root
    raw: dict[str, str | None]
    rel: dict[str, Path | None]  # relative to recordings_dir; None: no path or outside


def media(name: str) -> tuple[str, str] | None:
    """(event id, row field) of a media file name, or None for other files (the database...)."""
    m = _MEDIA.match(name)
    if m is None:
        return None
    return m["id"], SIGHTING_CROP if m["crop"] else _KIND_FIELD[m["kind"]]


def relative(value: str | Path, root: Path, real_root: Path) -> Path | None:
    """`value` relative to recordings_dir (through symlinks too), None when outside it."""
    path = Path(os.path.abspath(Path(value).expanduser()))
    for base, candidate in ((root, path), (real_root, path.resolve())):
        try:
            return candidate.relative_to(base)
        except ValueError:
            continue
    return None


def scan(root: Path) -> tuple[dict[Path, FileMeta], list[Path]]:
    """Every regular file under root (relative path -> size, mtime) and every folder."""
    files: dict[Path, FileMeta] = {}
    dirs: list[Path] = []
    stack = [Path()]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(root / rel))
        except OSError:
            continue  # vanished or unreadable: nothing to manage in it
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel / entry.name)
                    dirs.append(rel / entry.name)
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    files[rel / entry.name] = FileMeta(st.st_size, st.st_mtime)
            except OSError:
                continue
    return files, dirs


def load_crops(engine: Engine, root: Path, real_root: Path) -> set[Path]:
    """Sighting crops the database names (relative to root): never orphans."""
    query = select(sightings.c.crop_path).where(sightings.c.crop_path.is_not(None))
    with engine.connect() as conn:
        paths = conn.scalars(query).all()
    return {r for p in paths if p is not None and (r := relative(p, root, real_root)) is not None}


def load_rows(
    engine: Engine, root: Path, real_root: Path, host: str | None, event_id: str | None = None
) -> list[EventRow]:
    """Every event row (or the one of `event_id`); `mine` when this host may manage it."""
    e = events.c
    query = select(e.id, e.camera, e.started_at, e.status, e.host, *(e[f] for f in FIELDS))
    if event_id is not None:
        query = query.where(e.id == event_id)
    rows = []
    with engine.connect() as conn:
        for r in conn.execute(query):
            raw = {f: getattr(r, f) for f in FIELDS}
            rel = {f: None if v is None else relative(v, root, real_root) for f, v in raw.items()}
            outside = any(raw[f] is not None and rel[f] is None for f in FIELDS)
            # Several hosts may share one database: never judge another host's files.
            ours = host is None or r.host is None or r.host == host
            mine = ours and not outside
            rows.append(EventRow(r.id, r.camera, r.started_at, r.status, mine, raw, rel))
    return rows


def event_files(engine: Engine, root: Path, real_root: Path, row: EventRow) -> dict[Path, FileMeta]:
    """One event's files on disk, without a scan of everything: the files its row names
    and every media file named with its id in their folders, its sightings' crops'
    folders and the day folder the recorder would put it in."""
    query = select(sightings.c.crop_path).where(
        sightings.c.event_id == row.id, sightings.c.crop_path.is_not(None)
    )
    with engine.connect() as conn:
        crops = [p for p in conn.scalars(query) if p is not None]
    named = {r for r in row.rel.values() if r is not None}
    folders = {r.parent for r in named}
    folders |= {r.parent for p in crops if (r := relative(p, root, real_root)) is not None}
    folders.add(event_paths(root, row.camera, row.started_at, row.id).clip.parent.relative_to(root))
    files: dict[Path, FileMeta] = {}
    for folder in sorted(folders):
        try:
            entries = list(os.scandir(root / folder))
        except OSError:
            continue  # vanished or unreadable
        for entry in entries:
            rel = folder / entry.name
            found = media(entry.name)
            if rel not in named and (found is None or found[0] != row.id):
                continue
            try:
                if entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    files[rel] = FileMeta(st.st_size, st.st_mtime)
            except OSError:
                continue
    return files
