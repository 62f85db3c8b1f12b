"""Galleries of real photos for tests, and the real face engine shared by a session."""

from __future__ import annotations

from pathlib import Path


def put(folder: Path, person: str, photo: Path, name: str | None = None) -> Path:
    """Copy a real photo into the gallery as `person/name`."""
    dest = folder / person / (name or photo.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(photo.read_bytes())
    return dest
