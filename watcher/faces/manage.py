"""Gallery management behind `watcher faces list|add|remove|check`: data in, data out.

Nothing here prints; the CLI formats. A problem with the whole request raises
GalleryError (one line for the user); a problem with one image is reported in its result.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from watcher.constants import GALLERY_IMAGE_EXTS
from watcher.core import Embeddings, FaceEngine, box_height
from watcher.faces.cache import GalleryCache, create_hidden, digest_of
from watcher.faces.gallery import (
    USEFUL_FACE_PX,
    Gallery,
    ImageError,
    KnownImage,
    Rejected,
    analyse_bytes,
    is_image_name,
    load_gallery,
    read_bytes,
    scan,
)
from watcher.faces.openset import OpenSetRule

# Like camera names, plus inner dots ("j.smith"): never a path separator or a leading dot.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# The suggested tolerance stays in the range where dlib's embedding is known to work.
TOLERANCE_RANGE = (0.4, 0.7)
_BELOW_DIFFERENT = 0.01  # a suggestion stays at least this far under two different people


class GalleryError(ValueError):
    """The request as a whole cannot be done; the message is one line for the user."""


@dataclass(frozen=True)
class PersonListing:
    """One person: their usable images and their rejected ones."""

    name: str
    images: list[Path]
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class GalleryListing:
    """Everyone in the gallery, and every image left out with its reason."""

    folder: Path
    people: list[PersonListing]
    rejected: list[Rejected]


@dataclass(frozen=True)
class AddResult:
    """One image offered to `add`: copied to `dest`, or refused for `reason`."""

    source: Path
    accepted: bool
    reason: str | None = None
    dest: Path | None = None
    face_px: int | None = None


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


def validate_name(name: str) -> str:
    """The person name if safe as a folder name in the gallery, else GalleryError."""
    if not NAME_PATTERN.match(name):
        raise GalleryError(
            f"invalid name {name!r}: letters, digits, '.', '_' and '-' only, "
            "not starting with '.' or '-', at most 63 characters"
        )
    return name


def list_people(
    engine: FaceEngine, folder: Path, cache: GalleryCache | None = None
) -> GalleryListing:
    """People with their images, and rejected images with why (embeds only uncached ones)."""
    gallery = load_gallery(engine, folder, cache, log_rejected=False)
    names = sorted({i.person for i in gallery.images} | {r.person for r in gallery.rejected})
    people = [
        PersonListing(
            name,
            [i.path for i in gallery.images if i.person == name],
            [r for r in gallery.rejected if r.person == name],
        )
        for name in names
    ]
    return GalleryListing(folder, people, list(gallery.rejected))


def add_images(
    engine: FaceEngine,
    folder: Path,
    name: str,
    images: list[Path],
    cache: GalleryCache | None = None,
) -> list[AddResult]:
    """Check each image and copy the good ones into `folder/name/` under unused names."""
    validate_name(name)
    cache = cache if cache is not None else GalleryCache.for_folder(folder)
    cache.sync()
    known = _digests(folder, cache)
    checked: list[tuple[Path, bytes | None, AddResult]] = []
    for source in images:
        data, result = _check_image(engine, cache, source, known)
        checked.append((source, data, result))
        if data is not None:
            known.setdefault(digest_of(data), source)  # the same photo twice in one call
    # Embeddings first, files second: a daemon that sees the new files finds them cached.
    cache.save()
    out = []
    for source, data, result in checked:
        if data is None:
            out.append(result)
            continue
        try:
            dest = _copy_new(data, folder / name, _safe_file_name(source))
        except OSError as exc:
            out.append(AddResult(source, False, f"cannot copy: {exc.strerror or exc}"))
            continue
        out.append(AddResult(source, True, dest=dest, face_px=result.face_px))
    return out


def remove(folder: Path, name: str, image: str | None = None) -> list[Path]:
    """Remove a person (folder and/or `<name>.<ext>`) or one image; the paths removed."""
    _plain_part(name, "person name")
    person_dir = folder / name
    singles = [p for p in (folder.iterdir() if folder.is_dir() else []) if _is_single(p, name)]
    removed: list[Path] = []
    try:
        if image is None:
            if person_dir.is_symlink():
                person_dir.unlink()  # the link only, never what it points to
                removed.append(person_dir)
            elif person_dir.is_dir():
                removed.extend(p for _, p in scan(folder) if p.parent == person_dir)
                shutil.rmtree(person_dir)
                removed.append(person_dir)
            for path in singles:
                path.unlink()
                removed.append(path)
            if not removed:
                raise GalleryError(f"no person named {name!r} in {folder}")
            return removed
        _plain_part(image, "image name")
        target = person_dir / image
        if not target.is_file():
            target = folder / image  # the single-file layout: known_faces/<name>.jpg
        if not _is_single(target, name) and target.parent != person_dir:
            have = [p.name for p in _person_images(folder, name)]
            raise GalleryError(f"{name} has no image {image!r} (has: {', '.join(have) or 'none'})")
        if not target.resolve().is_relative_to(folder.resolve()):
            raise GalleryError(f"{target} is outside the gallery {folder}")
        target.unlink()
        removed.append(target)
        if person_dir.is_dir() and not any(person_dir.iterdir()):
            person_dir.rmdir()  # the last image went: so does the person
            removed.append(person_dir)
    except OSError as exc:
        raise GalleryError(f"cannot remove: {exc.strerror or exc}: {exc.filename}") from None
    return removed


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


def _check_image(
    engine: FaceEngine, cache: GalleryCache, source: Path, known: dict[str, Path]
) -> tuple[bytes | None, AddResult]:
    """(bytes to copy, result); bytes are None when the image is refused."""
    if not is_image_name(source):
        exts = ", ".join(sorted(GALLERY_IMAGE_EXTS))
        return None, AddResult(source, False, f"unsupported file type (use {exts})")
    try:
        data, _ = read_bytes(source)
    except ImageError as exc:
        return None, AddResult(source, False, str(exc))
    digest, entry = analyse_bytes(engine, cache, data)
    if entry.box is None:
        return None, AddResult(source, False, entry.reason or "unusable")
    if digest in known:
        return None, AddResult(source, False, f"already in the gallery as {known[digest]}")
    height = box_height(entry.box)
    if height < USEFUL_FACE_PX:
        reason = f"face is {height} px tall; at least {USEFUL_FACE_PX} px needed"
        return None, AddResult(source, False, reason, face_px=height)
    return data, AddResult(source, True, face_px=height)


def _digests(folder: Path, cache: GalleryCache) -> dict[str, Path]:
    """Content digest -> path of every image in the gallery now."""
    out: dict[str, Path] = {}
    for _, path in scan(folder):
        with contextlib.suppress(OSError, ImageError):
            digest = cache.digest_hint(path, path.stat()) or digest_of(read_bytes(path)[0])
            out.setdefault(digest, path)
    return out


def _safe_file_name(source: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", source.stem).lstrip(".-") or "image"
    return stem[:80] + source.suffix.lower()


def _copy_new(data: bytes, person_dir: Path, file_name: str) -> Path:
    """Write `data` under a name not yet taken; the image appears whole or not at all."""
    person_dir.mkdir(parents=True, exist_ok=True)
    # Hidden while being written, so a watching daemon never reads half a photo.
    fd, tmp = create_hidden(person_dir, ".add-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        stem, suffix = os.path.splitext(file_name)
        for n in range(1, 10_000):
            dest = person_dir / (file_name if n == 1 else f"{stem}-{n}{suffix}")
            try:
                os.link(tmp, dest)  # fails if dest exists: never overwrites
                return dest
            except FileExistsError:
                continue
            except OSError:  # no hard links here (some USB/network file systems)
                try:
                    os.close(os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                except FileExistsError:
                    continue
                os.replace(tmp, dest)
                return dest
        raise OSError(f"no free file name for {file_name} in {person_dir}")
    finally:
        tmp.unlink(missing_ok=True)


def _plain_part(part: str, what: str) -> None:
    """Refuse anything that is not one plain, visible path component."""
    seps = {os.sep, "/", "\\"} | ({os.altsep} if os.altsep else set())
    if not part or part.startswith(".") or any(s in part for s in seps) or "\0" in part:
        raise GalleryError(f"invalid {what} {part!r}: must be a plain name inside the gallery")


def _is_single(path: Path, name: str) -> bool:
    return path.is_file() and path.stem == name and is_image_name(path)


def _person_images(folder: Path, name: str) -> list[Path]:
    return [p for person, p in scan(folder) if person == name]


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
