"""What a user asks of watcher, whichever front end asks: the CLI, the daemon, a web page.

Each use case orchestrates the layers below (the gallery, the store, the
housekeeping's deletion) and raises one-line errors for the user; the store
underneath offers queries and writes only.

The names below are loaded on first use (PEP 562): importing one use case, say
deleting an event from the web page, must not load the gallery's OpenCV and PyAV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from watcher.lazy import lazy_names

if TYPE_CHECKING:
    from watcher.usecases.events import DeletedEvent, EventNotDeleted, delete_event
    from watcher.usecases.naming import DEFAULT_MAX_PHOTOS, NamingResult, name_identity
    from watcher.usecases.photos import add_photos, forget_learned, remove_photos

# Each public name and the submodule that defines it.
_WHERE: dict[str, str] = {
    "DeletedEvent": "events",
    "EventNotDeleted": "events",
    "delete_event": "events",
    "DEFAULT_MAX_PHOTOS": "naming",
    "NamingResult": "naming",
    "name_identity": "naming",
    "add_photos": "photos",
    "forget_learned": "photos",
    "remove_photos": "photos",
}

__all__ = [
    "DEFAULT_MAX_PHOTOS",
    "DeletedEvent",
    "EventNotDeleted",
    "NamingResult",
    "add_photos",
    "delete_event",
    "forget_learned",
    "name_identity",
    "remove_photos",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
