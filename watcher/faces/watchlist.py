"""The watch-list kept with the photos: a person whose folder holds `.watch` starts an event.

The config's `people.<name>.alert` is the watch-list an administrator writes;
this is the one the review page and `watcher faces watch` change, where the
gallery already lives and the page may write (it adds photos there): a marker
file in the person's folder, read with the gallery and part of its fingerprint,
so the running daemon picks a change up by its hot reload. Light on purpose
(no NumPy, OpenCV or dlib): the page lists it.
"""

from __future__ import annotations

import os
from pathlib import Path

WATCH_FILE = ".watch"
_MARKER_TEXT = "on the watch-list: an appearance of this person starts an event\n"
_FILE_MODE = 0o640


class NotAPerson(ValueError):
    """The name has no folder in the gallery (a person is a folder of photos)."""


def watched(folder: Path) -> frozenset[str]:
    """The people whose gallery folder holds the marker."""
    if not folder.is_dir():
        return frozenset()
    return frozenset(
        entry.name
        for entry in folder.iterdir()
        if not entry.name.startswith(".") and (entry / WATCH_FILE).is_file()
    )


def set_watched(folder: Path, person: str, on: bool) -> bool:
    """Put a person on the watch-list or take them off; True when that changed anything."""
    person_dir = folder / person
    if person.startswith(".") or "/" in person or not person_dir.is_dir():
        raise NotAPerson(f"no person {person!r} in {folder}")
    marker = person_dir / WATCH_FILE
    if on == marker.is_file():
        return False
    if on:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
        with os.fdopen(fd, "w") as out:
            out.write(_MARKER_TEXT)
    else:
        marker.unlink(missing_ok=True)
    return True


def fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """(marker path, 0, 0) of every marker: toggling one reloads the gallery."""
    return tuple((str(folder / name / WATCH_FILE), 0, 0) for name in sorted(watched(folder)))
