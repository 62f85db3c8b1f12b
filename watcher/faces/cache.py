"""The gallery cache: what each known image yielded (embedding and box, or why it was
rejected), keyed by the SHA-256 of the image's bytes and tied to the model files.

The cache lives in `<known_faces>/.cache/embeddings.npz` by default (hidden, so the
gallery scan never sees it). It is only ever an accelerator: anything unexpected in
it means it is thrown away and rebuilt, never trusted.

Hashing every photo at each start costs seconds on a Raspberry Pi with big phone
photos, so the cache also remembers which digest a file had at a given (size, mtime,
ctime, inode), the way git's index does; any change to those and the file is hashed
again. Only the digest is ever the key of an embedding.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from watcher.constants import EMBEDDING_SIZE
from watcher.core import Box, Embeddings
from watcher.faces.models import EMBED_MODEL, SHAPE_MODEL, model_path

log = logging.getLogger(__name__)

CACHE_DIR = ".cache"
CACHE_FILE = "embeddings.npz"
# Bump when the gallery's detection or embedding procedure changes: entries made
# the old way must not be mixed with new ones.
CACHE_VERSION = 1
# A file changed this recently could change again within one timestamp tick without
# its stat changing ("racy git"): its digest is not remembered by stat until it is older.
RACY_S = 2.0
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_KEYS = frozenset(
    {"version", "model", "digests", "vectors", "boxes", "rej_digests", "rejected"}
    | {"hint_paths", "hint_stats", "hint_digests"}
)

StatKey = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


class CacheCorrupt(ValueError):
    """The cache file is not one this code wrote."""


class _Stale(ValueError):
    """A well-formed cache made for other weights or another cache version."""


@dataclass(frozen=True)
class Entry:
    """What one image's content yielded: a face (vector and box) or a rejection reason."""

    vector: Embeddings | None = None
    box: Box | None = None
    reason: str | None = None


def digest_of(data: bytes) -> str:
    """The content key of an image: SHA-256 of its bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def stat_key(st: os.stat_result) -> StatKey:
    """What must not change for a file's remembered digest to still hold."""
    # Inode numbers can use all 64 bits (NFS, btrfs); the file stores signed 64-bit.
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino & (2**63 - 1))


def default_model_key() -> str:
    """Identifies the weights in use (name and size), so other weights invalidate the cache."""
    parts = [f"v{CACHE_VERSION}"]
    for name in (SHAPE_MODEL, EMBED_MODEL):
        parts.append(f"{name}:{model_path(name).stat().st_size}")
    return ";".join(parts)


def cache_dir(folder: Path) -> Path:
    """The hidden folder of the gallery at `folder` where its caches are kept."""
    return folder / CACHE_DIR


def default_cache_path(folder: Path) -> Path:
    """Where the cache of the gallery at `folder` is kept."""
    return cache_dir(folder) / CACHE_FILE


class GalleryCache:
    """Digest -> Entry (and path -> digest hints), read from `path`, written atomically.

    `path=None` keeps the cache in memory only; `trust_stat=False` hashes every file on
    every load. Not thread-safe: one loader at a time (GalleryWatcher serialises loads).
    """

    def __init__(
        self, path: Path | None, model: str | None = None, *, trust_stat: bool = True
    ) -> None:
        self.path = path
        self.model = model if model is not None else default_model_key()
        self.trust_stat = trust_stat
        self._entries: dict[str, Entry] = {}
        self._hints: dict[str, tuple[StatKey, str]] = {}
        self._disk_stamp: tuple[int, int] | None = None  # (size, mtime_ns) last read/written
        self._dirty = False
        self._warned_write = False

    @classmethod
    def for_folder(
        cls, folder: Path, model: str | None = None, *, trust_stat: bool = True
    ) -> GalleryCache:
        """The cache kept inside the gallery at `folder`."""
        return cls(default_cache_path(folder), model, trust_stat=trust_stat)

    def __len__(self) -> int:
        return len(self._entries)

    def sync(self) -> None:
        """Read the file if it changed since we last read or wrote it (another process)."""
        if self.path is None:
            return
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("gallery cache %s: cannot read (%s); embedding anew", self.path, exc)
            return
        stamp = (st.st_size, st.st_mtime_ns)
        if stamp == self._disk_stamp:
            return
        self._disk_stamp = stamp
        try:
            entries, hints = _read(self.path, self.model)
        except _Stale as exc:
            log.info("gallery cache %s: %s; re-embedding", self.path, exc)
            self._dirty = True
            return
        except OSError as exc:
            log.warning("gallery cache %s: cannot read (%s); embedding anew", self.path, exc)
            return
        except Exception as exc:  # garbage can fail anywhere in zip or npy parsing
            log.warning("gallery cache %s is corrupt (%s); rebuilding it", self.path, _short(exc))
            self._dirty = True
            return
        # Content-keyed entries never go stale, so ours and theirs can simply be merged.
        for digest, entry in entries.items():
            self._entries.setdefault(digest, entry)
        for path, hint in hints.items():
            self._hints.setdefault(path, hint)

    def get(self, digest: str) -> Entry | None:
        """The entry for this content, if known."""
        return self._entries.get(digest)

    def put(self, digest: str, entry: Entry) -> None:
        """Remember what this content yielded."""
        self._entries[digest] = entry
        self._dirty = True

    def digest_hint(self, path: Path, st: os.stat_result) -> str | None:
        """The digest `path` had when its stat was exactly this, if remembered."""
        hint = self._hints.get(str(path))
        if not self.trust_stat or hint is None or hint[0] != stat_key(st):
            return None
        return hint[1]

    def note(self, path: Path, st: os.stat_result, digest: str) -> None:
        """Remember that `path`, with this stat, holds content `digest`."""
        racy = time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_S * 1e9
        hint = None if racy else (stat_key(st), digest)
        if self._hints.get(str(path)) == hint:
            return
        if hint is None:
            del self._hints[str(path)]
        else:
            self._hints[str(path)] = hint
        self._dirty = True

    def retain(self, digests: set[str], paths: set[Path]) -> None:
        """Forget what is no longer in the gallery (keeps the file small)."""
        gone = [d for d in self._entries if d not in digests]
        for digest in gone:
            del self._entries[digest]
        keep = {str(p) for p in paths}
        lost = [p for p in self._hints if p not in keep]
        for path in lost:
            del self._hints[path]
        self._dirty = self._dirty or bool(gone) or bool(lost)

    def save(self) -> bool:
        """Write the cache if it changed (tmp file + rename); False if it could not be."""
        if self.path is None or not self._dirty:
            return True
        try:
            self._disk_stamp = _write(self.path, self.model, self._entries, self._hints)
        except OSError as exc:
            if not self._warned_write:  # a read-only gallery: say so once, not every reload
                log.warning("gallery cache %s: cannot write (%s)", self.path, exc.strerror or exc)
                self._warned_write = True
            return False
        self._dirty = False
        return True


def create_hidden(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new hidden temporary file in `folder`, open for writing: (fd, path).

    Unlike mkstemp's 0600, its mode follows the umask, so a daemon running as another
    user can read what `watcher faces` wrote.
    """
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}.tmp"
        try:
            return os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _digests(values: np.ndarray) -> list[str]:
    out = values.tolist()
    if values.ndim != 1 or not all(isinstance(d, str) and _DIGEST.match(d) for d in out):
        raise CacheCorrupt("malformed digest")
    return out


def _read(path: Path, model: str) -> tuple[dict[str, Entry], dict[str, tuple[StatKey, str]]]:
    """Parse and validate a cache file; raise _Stale or any error when it is unusable."""
    with np.load(path, allow_pickle=False) as npz:
        if set(npz.files) != _KEYS:
            raise CacheCorrupt(f"unexpected arrays {sorted(npz.files)}")
        a = {key: npz[key] for key in _KEYS}
    if a["version"].shape != () or int(a["version"]) != CACHE_VERSION:
        raise _Stale("made by another cache version")
    if a["model"].shape != () or str(a["model"]) != model:
        raise _Stale("made with other model files")
    digests, rejected, hinted = (
        _digests(a["digests"]),
        _digests(a["rej_digests"]),
        _digests(a["hint_digests"]),
    )
    vectors, boxes, stats = a["vectors"], a["boxes"], a["hint_stats"]
    n, k = len(digests), len(hinted)
    if (
        vectors.shape != (n, EMBEDDING_SIZE)
        or vectors.dtype != np.float64
        or not np.isfinite(vectors).all()
        or boxes.shape != (n, 4)
        or not np.issubdtype(boxes.dtype, np.integer)
        or a["rejected"].shape != (len(rejected),)
        or a["hint_paths"].shape != (k,)
        or stats.shape != (k, 4)
        or not np.issubdtype(stats.dtype, np.integer)
    ):
        raise CacheCorrupt("arrays of the wrong shape or type")
    entries: dict[str, Entry] = {}
    for i, digest in enumerate(digests):
        top, right, bottom, left = (int(v) for v in boxes[i])
        if not (0 <= top < bottom and 0 <= left < right):
            raise CacheCorrupt("malformed face box")
        entries[digest] = Entry(vector=vectors[i].copy(), box=Box(top, right, bottom, left))
    for digest, reason in zip(rejected, a["rejected"].tolist(), strict=True):
        if not isinstance(reason, str) or not reason:
            raise CacheCorrupt("malformed rejection")
        entries[digest] = Entry(reason=reason)
    hints: dict[str, tuple[StatKey, str]] = {}
    for p, row, digest in zip(a["hint_paths"].tolist(), stats.tolist(), hinted, strict=True):
        if not isinstance(p, str) or not p:
            raise CacheCorrupt("malformed path")
        hints[p] = ((int(row[0]), int(row[1]), int(row[2]), int(row[3])), digest)
    return entries, hints


def _write(
    path: Path, model: str, entries: dict[str, Entry], hints: dict[str, tuple[StatKey, str]]
) -> tuple[int, int]:
    """Write atomically: readers see the old file or the new one, never half of one."""
    faces = {d: e for d, e in entries.items() if e.vector is not None and e.box is not None}
    rejected = {d: e.reason for d, e in entries.items() if e.reason is not None}
    vectors = [e.vector for e in faces.values() if e.vector is not None]
    arrays: dict[str, Any] = {  # Any: savez also takes keyword flags
        "version": np.array(CACHE_VERSION),
        "model": np.array(model),
        "digests": np.array(list(faces), dtype="<U64"),
        "vectors": np.vstack(vectors) if vectors else np.empty((0, EMBEDDING_SIZE)),
        "boxes": np.array([e.box for e in faces.values()], dtype=np.int64).reshape(-1, 4),
        "rej_digests": np.array(list(rejected), dtype="<U64"),
        "rejected": np.array(list(rejected.values()), dtype=str),
        "hint_paths": np.array(list(hints), dtype=str),
        "hint_stats": np.array([h[0] for h in hints.values()], dtype=np.int64).reshape(-1, 4),
        "hint_digests": np.array([h[1] for h in hints.values()], dtype="<U64"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_hidden(path.parent, f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())  # the rename must not land before the data
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)
