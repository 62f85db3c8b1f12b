"""The gallery quality report behind `watcher faces check`: data in, data out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from watcher.core import Embeddings, FaceEngine
from watcher.faces.cache import GalleryCache
from watcher.faces.gallery import USEFUL_FACE_PX, Gallery, KnownImage, Rejected, load_gallery
from watcher.faces.openset import OpenSetRule

# The suggested tolerance stays in the range where dlib's embedding is known to work.
TOLERANCE_RANGE = (0.4, 0.7)
_BELOW_DIFFERENT = 0.01  # a suggestion stays at least this far under two different people


@dataclass(frozen=True)
class SmallFace:
    """A usable image whose face is smaller than USEFUL_FACE_PX."""

    person: str
    path: Path
    face_px: int


@dataclass(frozen=True)
class Disagreement:
    """A person whose images are farther apart than the tolerance: one may be someone else."""

    person: str
    distance: float  # the largest distance between two of their images
    pair: tuple[Path, Path]
    outlier: Path | None  # the image farthest from the others, when there are 3 or more


@dataclass(frozen=True)
class Confusion:
    """Two people with images within the tolerance of each other: a mix-up waiting to happen."""

    people: tuple[str, str]
    pair: tuple[Path, Path]
    distance: float


@dataclass(frozen=True)
class GalleryReport:
    """The quality report of `watcher faces check`."""

    people: dict[str, int]
    rejected: list[Rejected]  # unreadable, no face, several faces
    small_faces: list[SmallFace]
    disagreements: list[Disagreement]
    confusions: list[Confusion]
    tolerance: float  # the configured one
    suggested_tolerance: float
    suggestion_basis: str  # how the suggestion was reached, for the user
    same_max: float | None  # largest distance between two images of one person
    different_min: float | None  # smallest distance between images of two people
    bounds: dict[str, float] = field(default_factory=dict)  # each person's, by the open-set rule
    unclear: list[Confusion] = field(default_factory=list)  # people the rule cannot tell apart
    advice: list[str] = field(default_factory=list)  # which photos would help

    @property
    def ok(self) -> bool:
        """Whether nothing needs the user's attention."""
        return not (
            self.rejected
            or self.small_faces
            or self.disagreements
            or self.confusions
            or self.unclear
        )


def check_gallery(
    engine: FaceEngine, folder: Path, tolerance: float, cache: GalleryCache | None = None
) -> GalleryReport:
    """Gallery quality: bad and small images, inconsistent people, confusable people."""
    gallery = load_gallery(engine, folder, cache, log_rejected=False)
    small = [SmallFace(i.person, i.path, i.face_px) for i in gallery.images]
    small = [s for s in small if s.face_px < USEFUL_FACE_PX]
    dist = _distances(gallery.matrix)
    names = np.array(gallery.names)
    same = names[:, None] == names[None, :]
    upper = np.triu(np.ones_like(same), k=1)
    same_d, diff_d = dist[same & upper], dist[~same & upper]
    same_max = float(same_d.max()) if same_d.size else None
    diff_min = float(diff_d.min()) if diff_d.size else None
    suggested, basis = _suggest(tolerance, same_max, diff_min)
    rule = OpenSetRule(gallery.names, gallery.matrix, tolerance)
    unclear = [_closest_pair(gallery.images, dist, a, b) for a, b, _ in rule.confusable()]
    return GalleryReport(
        people=gallery.people,
        rejected=list(gallery.rejected),
        small_faces=small,
        disagreements=_disagreements(gallery, dist, tolerance),
        confusions=_confusions(gallery.images, dist, same, tolerance),
        tolerance=tolerance,
        suggested_tolerance=suggested,
        suggestion_basis=basis,
        same_max=same_max,
        different_min=diff_min,
        bounds={p: round(b, 3) for p, b in rule.bounds.items()},
        unclear=unclear,
        advice=_advice(gallery, unclear),
    )


def _closest_pair(images: list[KnownImage], dist: Embeddings, a: str, b: str) -> Confusion:
    """The two images, one of `a` and one of `b`, that are nearest each other."""
    rows = [i for i, img in enumerate(images) if img.person == a]
    cols = [j for j, img in enumerate(images) if img.person == b]
    sub = dist[np.ix_(rows, cols)]
    r, c = np.unravel_index(int(sub.argmin()), sub.shape)
    pair = (images[rows[r]].path, images[cols[c]].path)
    return Confusion((a, b), pair, float(sub[r, c]))


def _advice(gallery: Gallery, unclear: list[Confusion]) -> list[str]:
    """What photos would help the rule, person by person."""
    out = []
    for c in unclear:
        out.append(
            f"{c.people[0]} and {c.people[1]} are {c.distance:.2f} apart: their looks will "
            "often be unclear (no name, no alarm); add 3 or more photos of each, on other "
            "days and in other light, ideally from the camera's own view"
        )
    for person, count in gallery.people.items():
        if count == 1:
            out.append(
                f"{person} has one photo: add 2 or more (other days, other light) so that "
                "watcher can measure how far their looks spread"
            )
    return out


def _distances(matrix: Embeddings) -> Embeddings:
    """All pairwise Euclidean distances, via the Gram matrix (no n*n*128 temporary)."""
    sq = (matrix**2).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (matrix @ matrix.T)
    out: Embeddings = np.sqrt(np.clip(d2, 0.0, None))
    np.fill_diagonal(out, 0.0)
    return out


def _disagreements(gallery: Gallery, dist: Embeddings, tolerance: float) -> list[Disagreement]:
    out = []
    for person in gallery.people:
        idx = [i for i, n in enumerate(gallery.names) if n == person]
        if len(idx) < 2:
            continue
        sub = dist[np.ix_(idx, idx)]
        a, b = np.unravel_index(int(sub.argmax()), sub.shape)
        if sub[a, b] <= tolerance:
            continue
        # With 3+ images the one farthest from the rest is likely the wrong one.
        outlier = gallery.images[idx[int(sub.mean(axis=1).argmax())]].path if len(idx) > 2 else None
        pair = (gallery.images[idx[a]].path, gallery.images[idx[b]].path)
        out.append(Disagreement(person, float(sub[a, b]), pair, outlier))
    return out


def _confusions(
    images: list[KnownImage], dist: Embeddings, same: np.ndarray, tolerance: float
) -> list[Confusion]:
    closest: dict[tuple[str, str], Confusion] = {}
    rows, cols = np.nonzero(np.triu(~same & (dist <= tolerance), k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        a, b = sorted((images[i], images[j]), key=lambda img: img.person)
        key, d = (a.person, b.person), float(dist[i, j])
        if key not in closest or d < closest[key].distance:
            closest[key] = Confusion(key, (a.path, b.path), d)
    return [closest[k] for k in sorted(closest)]


def _suggest(tolerance: float, same_max: float | None, diff_min: float | None) -> tuple[float, str]:
    """Midway between the farthest same-person pair and the nearest different-person pair,
    and never at or above the distance between two different people of the gallery."""
    low, high = TOLERANCE_RANGE
    if diff_min is None:
        return tolerance, "one person: nobody to tell them from"
    if same_max is not None and same_max >= diff_min:
        return tolerance, "images of one person are farther apart than two people: fix those first"
    # Two different people of the gallery are diff_min apart: a tolerance at or
    # above it would take one for the other.
    cap = math.floor((diff_min - _BELOW_DIFFERENT) * 100) / 100
    if same_max is None:
        return min(tolerance, cap), (
            f"under {diff_min:.2f}, the two nearest different people; add photos "
            "(2+ per person) for a better estimate"
        )
    mid = round(min(high, max(low, (same_max + diff_min) / 2)), 2)
    return min(mid, cap), (
        f"midway between {same_max:.2f} (same person) and {diff_min:.2f} (different)"
    )
