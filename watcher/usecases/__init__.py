"""What a user asks of watcher, whichever front end asks: the CLI, the daemon, a web page.

Each use case orchestrates the layers below (the gallery, the store, the
housekeeping's deletion) and raises one-line errors for the user; the store
underneath offers queries and writes only.
"""

from watcher.usecases.events import DeletedEvent, EventNotDeleted, delete_event
from watcher.usecases.naming import DEFAULT_MAX_PHOTOS, NamingResult, name_identity
from watcher.usecases.photos import add_photos, forget_learned, remove_photos

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
