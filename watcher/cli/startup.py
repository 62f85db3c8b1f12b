"""Start-up without the cyclic garbage collector: what loads is kept for life.

Loading SQLAlchemy, pydantic, NumPy, PyAV, OpenCV and the config makes some
100,000 objects and next to no garbage (a thousand objects), yet the cyclic
collector walked them all again and again while they loaded, and once more at
exit: 30 ms of the 0.3 s `watcher events list` may take, and ~0.1 CPU-s of the
imports, models and gallery a `watcher replay` or `watcher run` loads (measured:
0.82 -> 0.70 CPU-s for the imports alone). Frozen after start-up, they are left out
of every later collection; what they free is still freed at once by reference
counting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def start_up(collect: bool = False) -> Iterator[None]:
    """No cyclic collection while this block loads; then later ones skip what it made.

    `collect`: free start-up's cyclic garbage once (the command line's too, frozen
    before) and then freeze: for a process that runs for months. A command that ends
    soon need not pay for that walk.
    """
    if not gc.isenabled():  # the caller chose to run without it (or a start-up is on)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if collect:
            gc.unfreeze()
            gc.collect()
        gc.freeze()
        gc.enable()
