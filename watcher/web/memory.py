"""The page's memory: few threads, one malloc arena for them, handed back when idle.

The page idles for weeks between visits. glibc's malloc gives every thread that
allocates its own arena (up to eight per core) and keeps what a request freed (rendered
HTML, query rows, SQLite's page cache) in it for the next allocation. Measured with
10,000 events and eight browsers at once: 70 MiB idle afterwards with the default
arenas, 60 with one. The page's threads mostly wait for the GIL or the disk, so one
arena costs no speed, and between requests the freed memory is better given back.
Other C libraries (musl) have neither call: nothing is done there.

Threads: Starlette runs each page's queries and rendering, and each file read, on a
worker thread (anyio allows 40). Eight browsers at once then had eight requests' rows
and HTML alive together, and Python's allocator kept most of that peak for good (61
MiB idle afterwards; 58 with two threads). A household's page needs no more than two:
each page takes 2-45 ms with 10,000 events.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Final

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

PAGE_THREADS: Final = 2
# `watcher faces` commands (naming, uploads, the gallery check) wait seconds for their
# process: they queue on a limiter of their own, one at a time (two changes to the
# gallery at once would race), and never hold the page's two threads.
COMMAND_THREADS: Final = 1
TRIM_AFTER_S: Final = 1.0  # idle this long before the heaps are trimmed
_M_ARENA_MAX: Final = -8  # glibc's malloc.h
_LIBC: Final = ctypes.util.find_library("c")


def _glibc(name: str) -> Callable[..., int] | None:
    if _LIBC is None:
        return None
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(_LIBC), name)
    except (OSError, AttributeError):
        return None
    return function


def one_arena() -> bool:
    """Make every thread allocate from malloc's main arena; False where that cannot be set.

    Must run before the page starts its threads (an arena, once made, stays).
    """
    mallopt = _glibc("mallopt")
    return mallopt is not None and mallopt(ctypes.c_int(_M_ARENA_MAX), ctypes.c_int(1)) == 1


def limit_threads() -> None:
    """Cap the page's worker threads (anyio's default limiter is per event loop: call
    in the running one, the app's lifespan)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = PAGE_THREADS


def commands_limiter() -> CapacityLimiter:
    """The queue of `watcher faces` commands: COMMAND_THREADS at a time."""
    return CapacityLimiter(COMMAND_THREADS)


class TrimWhenIdle:
    """ASGI middleware: a second after the last request in flight answered, trim malloc's heaps.

    The second: a page is followed by its pictures, a clip by its next ranges; trimming
    between them would only hand back memory the next request faults in again.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = 0
        trim = _glibc("malloc_trim")
        self._trim = None if trim is None else (lambda: trim(ctypes.c_size_t(0)))
        self._pending: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._trim is None:
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0 and self._pending is None:
                loop = asyncio.get_running_loop()
                self._pending = loop.call_later(TRIM_AFTER_S, self._trim_if_idle)

    def _trim_if_idle(self) -> None:
        """About a millisecond on the page's heaps; a request still in flight reschedules it."""
        self._pending = None
        if self.in_flight == 0 and self._trim is not None:
            self._trim()
