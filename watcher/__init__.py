"""watcher: records a clip and an event only when a face it does not know appears."""

__version__ = "0.1.0"
