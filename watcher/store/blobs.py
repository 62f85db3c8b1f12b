"""Embeddings as the database stores them: 128 float32, little-endian, in one blob.

Apart from the grouping (the writer's ORM): the page's merge of two strangers
averages their centroids with these and nothing more.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from watcher.constants import EMBEDDING_SIZE

Vector = npt.NDArray[np.float64]

_DTYPE: Final = np.dtype("<f4")  # float32, little-endian, whatever the host's byte order
EMBEDDING_BYTES: Final = EMBEDDING_SIZE * _DTYPE.itemsize


def to_blob(vector: npt.ArrayLike) -> bytes:
    """An embedding (128 numbers) as stored: float32 little-endian bytes."""
    arr = np.asarray(vector, dtype=_DTYPE).reshape(-1)
    if arr.size != EMBEDDING_SIZE or not np.isfinite(arr).all():
        raise ValueError(f"an embedding is {EMBEDDING_SIZE} finite numbers, got {arr.size}")
    return arr.tobytes()


def from_blob(blob: bytes) -> Vector:
    """A stored embedding back as a float64 vector; ValueError if it is not 512 bytes."""
    if len(blob) != EMBEDDING_BYTES:
        raise ValueError(f"an embedding is {EMBEDDING_BYTES} bytes, got {len(blob)}")
    return np.frombuffer(blob, dtype=_DTYPE).astype(np.float64)
