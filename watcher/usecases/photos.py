"""Add and remove a known person's photos: the gallery's own checks, for every front end."""

from __future__ import annotations

from pathlib import Path

from watcher.core import FaceEngine
from watcher.faces import learned
from watcher.faces.manage import AddResult, add_images, remove, validate_name


def add_photos(
    face_engine: FaceEngine, known_faces_dir: Path, name: str, sources: list[Path]
) -> list[AddResult]:
    """Check photos (or short videos of one person) and copy the good looks into the gallery.

    One result per photo or look, accepted or refused with why; GalleryError
    for a request that cannot be done (an invalid name). A running daemon picks
    the new photos up by its gallery hot reload.
    """
    return add_images(face_engine, known_faces_dir, name, sources)


def remove_photos(known_faces_dir: Path, name: str, image: str | None = None) -> list[Path]:
    """Remove a person (and what was learned of them), or one of their photos; the paths gone."""
    return remove(known_faces_dir, name, image)


def forget_learned(known_faces_dir: Path, name: str) -> int:
    """Delete the looks learned of a person at the cameras; how many went."""
    validate_name(name)
    return learned.forget(known_faces_dir, name)
