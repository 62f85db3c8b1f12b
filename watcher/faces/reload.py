"""Hot reload of the gallery: notice changes in known_faces/ and swap a new Gallery in."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from watcher.core import Embeddings, FaceEngine
from watcher.faces import learned
from watcher.faces.cache import GalleryCache
from watcher.faces.gallery import Fingerprint, Gallery, Rejected, fingerprint, load_gallery
from watcher.log import FaultLog
from watcher.worker import Beat, no_beat

log = logging.getLogger("watcher.faces")

THREAD_NAME = "watcher.gallery"
DEFAULT_INTERVAL_S = 2.0
# A file modified this recently may still be being copied: wait for it to settle
# rather than embed half a photo.
DEFAULT_SETTLE_S = 1.0
_STOP_JOIN_S = 5.0
_TICK_S = 0.25  # the poll thread's wake-up period: bounds SIGHUP and stop() latency
_MAX_PENDING_LESSONS = 64  # looks waiting to be written; more are dropped (a stuck disk)


@dataclass(frozen=True)
class PersonChange:
    """What changed for one person between two galleries."""

    name: str
    images: int  # usable images now
    added: int = 0
    replaced: int = 0  # same file name, different content
    removed: int = 0
    rejected: list[Rejected] = field(default_factory=list)  # newly rejected images
    gone: bool = False  # the person has no image left at all

    def describe(self) -> str:
        """E.g. "alice: 3 images, 1 new" or "bob: removed"."""
        if self.gone:
            return f"{self.name}: removed"
        parts = [f"{self.images} image{'s' if self.images != 1 else ''}"]
        for count, word in (
            (self.added, "new"),
            (self.replaced, "replaced"),
            (self.removed, "removed"),
            (len(self.rejected), "rejected"),
        ):
            if count:
                parts.append(f"{count} {word}")
        return f"{self.name}: {', '.join(parts)}"


@dataclass(frozen=True)
class Change:
    """The difference a reload made, per person (empty when nothing that matters changed)."""

    people: list[PersonChange]
    gallery: Gallery

    def __bool__(self) -> bool:
        return bool(self.people)

    def describe(self) -> str:
        """One line for the log: "alice: 3 images, 1 new; bob: removed"."""
        return "; ".join(p.describe() for p in self.people) or "no change"


def diff(old: Gallery, new: Gallery) -> list[PersonChange]:
    """Per person, which images were added, replaced, removed or newly rejected."""
    old_ok = {img.path: (img.person, img.digest) for img in old.images}
    new_ok = {img.path: (img.person, img.digest) for img in new.images}
    old_rej = {(r.path, r.digest) for r in old.rejected}
    people = {p for p, _ in old_ok.values()} | {r.person for r in old.rejected}
    people |= {p for p, _ in new_ok.values()} | {r.person for r in new.rejected}
    now = new.people
    changes = []
    for name in sorted(people):
        before = {path: d for path, (p, d) in old_ok.items() if p == name}
        after = {path: d for path, (p, d) in new_ok.items() if p == name}
        rejected = [
            r for r in new.rejected if r.person == name and (r.path, r.digest) not in old_rej
        ]
        still_there = after or any(r.person == name for r in new.rejected)
        change = PersonChange(
            name,
            images=now.get(name, 0),
            added=sum(1 for path in after if path not in before),
            replaced=sum(1 for path, d in after.items() if path in before and before[path] != d),
            removed=sum(1 for path in before if path not in after),
            rejected=rejected,
            gone=not still_there,
        )
        if change.gone or change.added or change.replaced or change.removed or rejected:
            changes.append(change)
    return changes


class GalleryWatcher:
    """Holds the gallery in use and reloads it when known_faces/ changes.

    `current()` is what camera pipelines call per frame; a reload builds a whole new
    Gallery beside the old one and swaps the reference, so readers never see half of one.
    """

    def __init__(
        self,
        engine: FaceEngine,
        folder: Path,
        *,
        gallery: Gallery | None = None,
        cache: GalleryCache | None = None,
        settle_s: float = DEFAULT_SETTLE_S,
    ) -> None:
        self.engine = engine
        self.folder = folder
        self.settle_s = settle_s
        # One cache object across reloads: its entries stay in memory between loads.
        self._cache = cache if cache is not None else GalleryCache.for_folder(folder)
        self._load_lock = threading.Lock()  # the poll thread and a forced reload take turns
        self._stop = threading.Event()
        self._force = False  # set by request_reload(); a plain bool is safe in a signal handler
        self._thread: threading.Thread | None = None
        self._lessons: deque[tuple[str, Embeddings, str]] = deque()  # append/popleft: atomic
        self.thread_name = THREAD_NAME
        self.beat: Beat = no_beat  # the daemon's liveness, once it watches this thread
        self._gallery = gallery if gallery is not None else self._load(log_rejected=True)

    def offer(self, person: str, look: Embeddings, camera: str) -> None:
        """A look of `person` to learn (faces/learned.py); written by the poll thread,
        never by the caller (a camera's analysis thread must not wait on the disk)."""
        if len(self._lessons) < _MAX_PENDING_LESSONS:
            self._lessons.append((person, look, camera))

    def _learn_pending(self) -> None:
        """Write the looks offered since the last tick; the next check reloads them."""
        while self._lessons:
            person, look, camera = self._lessons.popleft()
            try:
                if learned.add(self.folder, person, look, camera):
                    log.info("learned a look of %s at camera %s", person, camera)
            except OSError as exc:
                log.warning("cannot keep a learned look of %s: %s", person, exc)

    def current(self) -> Gallery:
        """The gallery in use now (one attribute read: atomic, lock-free)."""
        return self._gallery

    def check(self) -> Change | None:
        """Reload if any gallery file was added, replaced or removed; the change, or None."""
        now = fingerprint(self.folder)
        if now == self._gallery.fingerprint or self._unsettled(now):
            return None
        change = self._reload()
        return change if change else None

    def reload(self) -> Change:
        """Reload now, whatever the files look like (SIGHUP)."""
        return self._reload(forced=True)

    def request_reload(self) -> None:
        """Ask the poll thread to reload at its next tick; safe to call from a signal handler."""
        self._force = True

    def start(self, interval_s: float = DEFAULT_INTERVAL_S) -> GalleryWatcher:
        """Poll for changes every `interval_s` seconds in a background thread."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval_s,), name=THREAD_NAME, daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout_s: float = _STOP_JOIN_S) -> bool:
        """End the poll thread; False if it is still busy (a long reload) after `timeout_s`."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("gallery watcher still reloading after %.0f s; left behind", timeout_s)
            return False
        return True

    def _run(self, interval_s: float) -> None:
        next_check = time.monotonic() + interval_s
        # Said once per distinct failure, not every interval (an unreadable folder): a
        # dead share is one line, a bug its traceback.
        faults = FaultLog(log, repeat_level=logging.DEBUG)
        while not self._stop.wait(min(_TICK_S, interval_s)):
            self.beat(THREAD_NAME)  # idle is progress; a reload hanging on a dead share is not
            forced = self._force
            if not forced and time.monotonic() < next_check:
                continue
            self._force = False
            try:
                self._learn_pending()
                if forced:
                    self.reload()
                else:
                    self.check()
                faults.recovered()
            except Exception as exc:  # a bad reload must not end hot reloading for good
                faults.failed(exc, "gallery reload failed; keeping the current gallery")
            next_check = time.monotonic() + interval_s

    def _unsettled(self, now: Fingerprint) -> bool:
        """Whether a changed file was modified within settle_s (maybe still being written)."""
        if self.settle_s <= 0:
            return False
        changed = set(now) - set(self._gallery.fingerprint)
        wall = time.time_ns()
        limit = wall - int(self.settle_s * 1e9)
        # A future mtime (clock skew) is not "recent": do not wait on it forever.
        return any(limit < mtime <= wall for _, _, mtime in changed)

    def _load(self, *, log_rejected: bool) -> Gallery:
        return load_gallery(self.engine, self.folder, self._cache, log_rejected=log_rejected)

    def _reload(self, *, forced: bool = False) -> Change:
        with self._load_lock:
            old = self._gallery
            new = self._load(log_rejected=False)  # new rejections are logged below, once
            self._gallery = new
        change = Change(diff(old, new), new)
        # A forced reload always says it happened: the user sent SIGHUP and waits for a word.
        level = logging.INFO if change or forced else logging.DEBUG
        log.log(level, "gallery reloaded: %s", change.describe())
        for person in change.people:
            for item in person.rejected:
                log.warning("%s: skipped: %s", item.path, item.reason)
        return change
