"""Gallery management behind `watcher faces list|add|remove|check`: data in, data out.

Nothing here prints; the CLI formats. A problem with the whole request raises
GalleryError (one line for the user); a problem with one image is reported in its result.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from watcher.constants import GALLERY_IMAGE_EXTS
from watcher.core import FaceEngine, box_height
from watcher.faces import learned
from watcher.faces.cache import GalleryCache, create_hidden, digest_of
from watcher.faces.from_video import VIDEO_EXTS, VideoError, good_looks, is_video_name
from watcher.faces.gallery import (
    USEFUL_FACE_PX,
    ImageError,
    Rejected,
    analyse_bytes,
    is_image_name,
    load_gallery,
    read_bytes,
    regular_file,
    scan,
)

# Letters of any language and digits ("José", "Zoë"), plus inner dots, dashes and
# underscores ("j.smith"): never a path separator, a leading dot or dash, a space.
NAME_PATTERN = re.compile(r"^[^\W_][\w.-]{0,62}$")


class GalleryError(ValueError):
    """The request as a whole cannot be done; the message is one line for the user."""


@dataclass(frozen=True)
class PersonListing:
    """One person: their usable images and their rejected ones."""

    name: str
    images: list[Path]
    rejected: list[Rejected] = field(default_factory=list)
    learned: int = 0  # looks learned at the cameras (known_faces/.learned/)


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


def validate_name(name: str) -> str:
    """The person name if safe as a folder name in the gallery, else GalleryError."""
    if not NAME_PATTERN.match(name):
        raise GalleryError(
            f"invalid name {name!r}: letters (any language), digits, '.', '_' and '-' "
            "only, starting with a letter or digit, at most 63 characters"
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
            gallery.learned_names.count(name),
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
    for source, data, refused in _expand_videos(engine, images):
        if refused is not None:
            checked.append((source, None, refused))
            continue
        data, result = _check_image(engine, cache, source, known, data)
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
            # The looks learned of them go too: a new person of that name starts afresh.
            if learned.forget(folder, name):
                removed.append(learned.folder_of(folder) / f"{name}.npz")
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


def _expand_videos(
    engine: FaceEngine, sources: list[Path]
) -> list[tuple[Path, bytes | None, AddResult | None]]:
    """Each source as (name, bytes if already read, refusal): a video becomes the good,
    different looks it holds, named `<video>-<second>s.jpg`."""
    out: list[tuple[Path, bytes | None, AddResult | None]] = []
    for source in sources:
        if not is_video_name(source):
            out.append((source, None, None))
            continue
        try:
            # A FIFO or device named like a video would block FFmpeg or never end.
            if os.path.exists(source):
                regular_file(source)
            looks = good_looks(engine, source)
        except (VideoError, ImageError) as exc:
            out.append((source, None, AddResult(source, False, str(exc))))
            continue
        for look in looks:
            name = source.with_name(f"{source.stem}-{look.t:.1f}s.jpg")
            out.append((name, look.jpeg, None))
    return out


def _check_image(
    engine: FaceEngine,
    cache: GalleryCache,
    source: Path,
    known: dict[str, Path],
    data: bytes | None = None,
) -> tuple[bytes | None, AddResult]:
    """(bytes to copy, result); bytes are None when the image is refused. `data`: the
    image's bytes when they do not come from the file `source` (a video's frame)."""
    if not is_image_name(source):
        exts = ", ".join(sorted(GALLERY_IMAGE_EXTS | VIDEO_EXTS))
        return None, AddResult(source, False, f"unsupported file type (use {exts})")
    if data is None:
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
