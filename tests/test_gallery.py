"""The gallery cache and hot reload, with the real dlib models on the real photos."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.gallery import CountingEngine, put, reencode
from tests.support.media import FACES, STILLS
from watcher.faces import cache as cache_module
from watcher.faces.cache import GalleryCache, default_cache_path
from watcher.faces.engine import FaceEngine
from watcher.faces.gallery import Gallery, embed_photo, load_gallery, scan
from watcher.faces.reload import THREAD_NAME, GalleryWatcher

TOLERANCE = 0.6


def nearest(gallery: Gallery, engine: FaceEngine, photo: Path) -> str | None:
    return gallery.match(embed_photo(engine, photo)[None, :], TOLERANCE)[0].name


def _timed_load(engine: FaceEngine, folder: Path, cache: GalleryCache) -> tuple[Gallery, float]:
    started = time.perf_counter()
    gallery = load_gallery(engine, folder, cache)
    return gallery, time.perf_counter() - started


def test_warm_load_of_300_images_never_calls_the_engine(
    tmp_path: Path, counting: CountingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The files were all written a moment ago; let their stat vouch for them at once.
    monkeypatch.setattr(cache_module, "RACY_S", 0.0)
    folder = tmp_path / "known_faces"
    photos = sorted(FACES.iterdir())
    for photo in photos:
        for quality in range(50, 100):
            reencode(photo, folder / photo.stem / f"q{quality}.jpg", quality, max_side=480)
    paths = [p for _, p in scan(folder)]
    assert len(paths) == 300
    assert len({p.read_bytes() for p in paths}) == 300  # 300 different contents

    cold = load_gallery(counting, folder)
    assert counting.detects == 300
    assert len(cold.names) + len(cold.rejected) == 300
    assert len(cold.names) >= 290  # a rare quality may hide a face; it is then cached as such

    # A new start: a new cache object reads the file. Once trusting unchanged stats,
    # once hashing every file: neither asks the engine anything.
    for trust_stat in (True, False):
        counting.reset()
        cache = GalleryCache.for_folder(folder, trust_stat=trust_stat)
        warm, elapsed = _timed_load(counting, folder, cache)
        print(f"warm load of 300 images (trust_stat={trust_stat}): {elapsed:.3f} s")
        assert counting.calls == 0
        assert warm.names == cold.names and np.array_equal(warm.matrix, cold.matrix)
        assert [r.path for r in warm.rejected] == [r.path for r in cold.rejected]
        assert elapsed < 2.0  # generous: the target is 1,000 images in under 2 s


def test_content_rewritten_behind_an_unchanged_size_and_mtime_is_seen(
    tmp_path: Path, counting: CountingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "RACY_S", 0.0)
    folder = tmp_path / "known_faces"
    target = put(folder, "obama", FACES / "obama_1.jpg")
    load_gallery(counting, folder)
    before = target.stat()
    biden = (FACES / "biden_2.jpg").read_bytes()
    target.write_bytes(biden + bytes(before.st_size - len(biden)))  # same file, same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    counting.reset()
    gallery = load_gallery(counting, folder)
    assert counting.detects == 1  # the content key, not the name or time, decides
    assert nearest(gallery, counting, FACES / "biden_1.jpg") == "obama"


def test_only_new_or_changed_content_is_embedded(tmp_path: Path, counting: CountingEngine) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    put(folder, "obama", FACES / "obama_2.jpg")
    put(folder, "biden", FACES / "biden_1.jpg")
    first = load_gallery(counting, folder)
    assert counting.detects == 3 and first.people == {"biden": 1, "obama": 2}

    counting.reset()
    reencode(FACES / "obama_2.jpg", folder / "obama" / "obama_2.jpg", 70)  # changed bytes
    put(folder, "biden", FACES / "biden_2.jpg")  # new
    (folder / "obama" / "obama_1.jpg").rename(folder / "obama" / "renamed.jpg")  # same bytes
    second = load_gallery(counting, folder)
    assert counting.detects == 2
    assert second.people == {"biden": 2, "obama": 2}
    assert nearest(second, counting, FACES / "obama_1.jpg") == "obama"
    # The cache lives hidden inside the gallery and never counts as a person.
    assert default_cache_path(folder).is_file()
    assert not [p for p in default_cache_path(folder).parent.iterdir() if p.suffix == ".tmp"]


def test_rejections_are_cached_and_still_reported(
    tmp_path: Path, counting: CountingEngine, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "crowd", STILLS / "two_people.jpg")
    noise = np.random.default_rng(3).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    cv2.imwrite(str(folder / "nobody.jpg"), noise)
    load_gallery(counting, folder)
    # One search a photo, and a second, padded one for the photo with no face (a tight crop?).
    assert counting.detects == 3

    counting.reset()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = load_gallery(counting, folder)
    assert counting.calls == 0
    assert {r.path.name: r.reason for r in again.rejected} == {
        "two_people.jpg": "2 faces found; a gallery image must show exactly one",
        "nobody.jpg": "no face found",
    }
    assert sum("skipped:" in r.getMessage() for r in caplog.records) == 2


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(5000))


def _wrong_shapes(path: Path) -> None:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["vectors"] = arrays["vectors"][:, :64]
    with path.open("wb") as f:
        np.savez(f, **arrays)


def _nan_vectors(path: Path) -> None:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["vectors"][0, 0] = np.nan
    with path.open("wb") as f:
        np.savez(f, **arrays)


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [_truncate, _garbage, _wrong_shapes, _nan_vectors, _empty_file])
def test_a_corrupt_cache_is_rebuilt_with_one_warning(
    tmp_path: Path, counting: CountingEngine, caplog: pytest.LogCaptureFixture, damage: object
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    put(folder, "biden", FACES / "biden_1.jpg")
    clean = load_gallery(counting, folder)
    assert callable(damage)
    damage(default_cache_path(folder))

    counting.reset()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        rebuilt = load_gallery(counting, folder)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "corrupt" in warnings[0].getMessage()
    assert "Traceback" not in caplog.text
    assert counting.detects == 2  # nothing was trusted
    assert rebuilt.names == clean.names and np.array_equal(rebuilt.matrix, clean.matrix)

    counting.reset()
    load_gallery(counting, folder)  # the rebuilt cache is good again
    assert counting.calls == 0


def test_other_model_files_invalidate_the_cache(tmp_path: Path, counting: CountingEngine) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    load_gallery(counting, folder)
    counting.reset()
    load_gallery(counting, folder, GalleryCache.for_folder(folder, model="another-model.dat:1"))
    assert counting.detects == 1
    counting.reset()
    load_gallery(counting, folder, GalleryCache.for_folder(folder, model="another-model.dat:1"))
    assert counting.calls == 0


def test_watcher_follows_added_replaced_and_removed_people(
    tmp_path: Path, counting: CountingEngine, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    put(folder, "obama", FACES / "obama_2.jpg")
    watcher = GalleryWatcher(counting, folder, settle_s=0)
    assert watcher.current().people == {"obama": 2}
    assert watcher.check() is None  # nothing changed: nothing loaded
    assert nearest(watcher.current(), counting, FACES / "biden_2.jpg") is None

    counting.reset()
    put(folder, "biden", FACES / "biden_1.jpg")
    with caplog.at_level(logging.INFO, logger="watcher.faces"):
        change = watcher.check()
    assert change is not None and change.describe() == "biden: 1 image, 1 new"
    assert counting.detects == 1  # only the new image
    assert "gallery reloaded: biden: 1 image, 1 new" in caplog.text
    assert nearest(watcher.current(), counting, FACES / "biden_2.jpg") == "biden"

    counting.reset()
    put(folder, "obama", STILLS / "obama_3.jpg", "obama_1.jpg")
    change = watcher.check()
    assert change is not None and change.describe() == "obama: 2 images, 1 replaced"
    assert counting.detects == 1

    shutil.rmtree(folder / "biden")
    change = watcher.check()
    assert change is not None and change.describe() == "biden: removed"
    assert watcher.current().people == {"obama": 2}
    assert nearest(watcher.current(), counting, FACES / "biden_2.jpg") is None

    put(folder, "crowd", STILLS / "two_people.jpg")
    (folder / "obama" / "obama_2.jpg").unlink()
    change = watcher.check()
    assert change is not None
    assert change.describe() == "crowd: 0 images, 1 rejected; obama: 1 image, 1 removed"


def test_forced_reload_and_settling(tmp_path: Path, counting: CountingEngine) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    watcher = GalleryWatcher(counting, folder, settle_s=30)
    forced = watcher.reload()
    assert not forced and forced.describe() == "no change"

    fresh = put(folder, "biden", FACES / "biden_1.jpg")
    assert watcher.check() is None  # just written: it may still be being copied
    old = time.time() - 60
    os.utime(fresh, (old, old))
    change = watcher.check()
    assert change is not None and change.describe() == "biden: 1 image, 1 new"


def test_watcher_thread_picks_up_a_new_person(tmp_path: Path, counting: CountingEngine) -> None:
    folder = tmp_path / "known_faces"
    put(folder, "obama", FACES / "obama_1.jpg")
    watcher = GalleryWatcher(counting, folder, settle_s=0.2).start(interval_s=0.2)
    try:
        assert THREAD_NAME in {t.name for t in threading.enumerate()}
        put(folder, "biden", FACES / "biden_1.jpg")
        deadline = time.monotonic() + 20
        while "biden" not in watcher.current().people and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.current().people == {"biden": 1, "obama": 1}

        # SIGHUP's path: a flag the thread acts on at its next tick.
        before = watcher.current()
        watcher.request_reload()
        deadline = time.monotonic() + 10
        while watcher.current() is before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.current() is not before
    finally:
        assert watcher.stop(timeout_s=10)
    assert THREAD_NAME not in {t.name for t in threading.enumerate()}
