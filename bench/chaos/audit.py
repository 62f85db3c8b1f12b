"""What watcher left: its rows against the appearances, its clips decoded, orphans, integrity."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av

from bench.chaos.truth import Appearance

# An event belongs to an appearance when its row was written from the visitor's
# entering to this long after they left (the decision waits for a few good looks).
MATCH_AFTER_S = 8.0
# A face this far from every gallery photo is not the known visitor (his photo is < 0.5
# from him): such an event is the visitor before him, seen in frames sent late (a frozen
# server sends what it held at once when it wakes).
KNOWN_BOUND = 0.6
DECIDED = re.compile(r"watcher\.camera\.[\w-]+: event (?P<id>\w+): unknown face at ")
MEDIA_NAME = re.compile(r"^\d{6}-(?P<id>[0-9A-Za-z]+)(?:-face(?:-\d+)?\.jpg|\.mp4|\.jpg)$")


def _utc(stored: str | None) -> float | None:
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).timestamp()


def read_rows(db: Path) -> tuple[list[dict[str, Any]], set[str], str]:
    """(event rows, every file path the database names, PRAGMA integrity_check)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        conn.row_factory = sqlite3.Row
        integrity = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        rows = [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY created_at")]
        named = {r[0] for r in conn.execute("SELECT crop_path FROM sightings") if r[0]}
        named |= {r[0] for r in conn.execute("SELECT crop_path FROM unknown_identities") if r[0]}
    for row in rows:
        row["created"] = _utc(row["created_at"])
        row["started"] = _utc(row["started_at"])
        named |= {row[f] for f in ("clip_path", "snapshot_path", "face_path") if row[f]}
    return rows, named, integrity


def decisions(lines: list[tuple[float, int, str]]) -> dict[str, float]:
    """Event id -> wall time of watcher's "event X: unknown face at ..., recording" line."""
    out: dict[str, float] = {}
    for t, _pid, line in lines:
        m = DECIDED.search(line)
        if m is not None:
            out.setdefault(m["id"], t)
    return out


def match(
    apps: list[Appearance], rows: list[dict[str, Any]], decided: dict[str, float]
) -> list[dict[str, Any]]:
    """Give each event to the appearance on its camera whose window holds its decision.

    The decision's time is its log line's (the row's created_at when the line is
    missing): created_at comes late when the database refused the row for a while,
    and started_at is the daemon's media clock, which is what is checked here.
    Returns the events that match no appearance.
    """
    for app in apps:
        app.events = []
    extra = []
    for row in rows:
        created = decided.get(row["id"], row["created"])
        row["decided"] = created
        best = None
        far = (row.get("closest_distance") or 0.0) >= KNOWN_BOUND
        for app in apps:
            if app.camera != row["camera"] or created is None or (app.known and far):
                continue
            inside = app.enter - 1.0 <= created <= app.exit + MATCH_AFTER_S
            if inside and (
                best is None or abs(created - app.arrival) < abs(created - best.arrival)
            ):
                best = app
        if best is None:
            extra.append(row)
        else:
            assert best.events is not None
            best.events.append(row["id"])
    return extra


def decode(clip: Path) -> tuple[int, str | None]:
    """(pictures decoded, the error that stopped it) of the whole clip."""
    frames = 0
    try:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for packet in container.demux(stream):
                frames += len(packet.decode())
    except (av.FFmpegError, OSError, IndexError) as exc:
        return frames, f"{type(exc).__name__}: {exc}"
    return frames, None if frames else "no picture"


def clips(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row's clip, decoded: unplayable ones and missing ones listed."""
    out = []
    for row in rows:
        path = row["clip_path"]
        if not path:
            continue
        frames, error = decode(Path(path)) if Path(path).is_file() else (0, "missing")
        out.append({"id": row["id"], "clip": path, "frames": frames, "error": error})
    return out


def orphans(root: Path, rows: list[dict[str, Any]], named: set[str]) -> dict[str, list[str]]:
    """Media files no row names, and rows naming files that are not there."""
    ids = {r["id"] for r in rows}
    names = {str(Path(p).resolve()) for p in named}
    files = []
    for path in root.rglob("*"):
        m = MEDIA_NAME.match(path.name)
        if m is None or not path.is_file():
            continue
        if m["id"] not in ids or str(path.resolve()) not in names:
            why = "no row" if m["id"] not in ids else "not named by its row"
            if path.stat().st_size == 0:
                why += ", empty"
            files.append(f"{path.relative_to(root)} ({why})")
    missing = []
    for row in rows:
        for f in ("clip_path", "snapshot_path", "face_path"):
            if row[f] and not Path(row[f]).is_file():
                missing.append(f"{row['id']}.{f}: {row[f]}")
    return {"files_without_rows": sorted(files), "rows_without_files": missing}
