"""Visits built from real face photos: each photo becomes a person walking up to the camera.

A visit is a sequence of looks 0.2 s apart (watcher's default 5 analysed frames
per second): small and blurred far away, cut by the frame's edge as they step in,
dim and noisy, then closer and sharper, with a blurred frame when they move fast.
The photos are real (../shared/media/people and the face gallery), the poor looks
are what a doorway camera sees; yaw and a bent head cannot be made from a frontal
photo, so those poor looks come only from the real footage of the other benches.

Every look runs through watcher's own engine (detection at the pipeline's
`min_face_px`, then the embedding and its landmarks); the results are cached in
bench/out/ by the photos' digests, so galleries and rules are compared in seconds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from watcher.core import Box, FaceEngine, RGBImage
from watcher.faces.gallery import read_rgb
from watcher.faces.quality import Look, measure

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT.parent / "shared" / "media"
PEOPLE = MEDIA / "people"
OUT = ROOT / "bench" / "out"
CACHE = OUT / "recognition_looks.npz"
LOOK_VERSION = 3  # bump when the looks are drawn differently
STEP_S = 0.2
FRAME_W, FRAME_H = 960, 540
MIN_FACE_PX = 60  # the shipped config's faces.min_face_px


@dataclass(frozen=True)
class Spec:
    """How one look of a visit is drawn."""

    face_px: int
    motion_blur: int = 0  # length of a horizontal motion streak, px
    cut: float = 0.0  # share of the face's width outside the frame's left edge
    dim: bool = False  # a dark, noisy, strongly compressed frame


# A person walking up to a door camera, one look every 0.2 s.
VISIT: tuple[Spec, ...] = (
    Spec(56, motion_blur=7),
    Spec(64),
    Spec(72, cut=0.35),
    Spec(80, motion_blur=9),
    Spec(90),
    Spec(100, dim=True),
    Spec(120),
    Spec(120, motion_blur=14),
    Spec(150),
    Spec(180),
    Spec(220),
    Spec(220, motion_blur=20),
)


@dataclass(frozen=True)
class Source:
    """One real photo of one person (its face box found once, at full size)."""

    key: str  # e.g. person_e_3, or couple_right
    person: str  # who it is; "stranger_x" for the man of couple.jpg, in no gallery
    path: Path
    crop: tuple[int, int] | None = None  # columns of the photo to keep (a two-face still)


def sources() -> list[Source]:
    """Every photo of people/ and the two faces of its couple still."""
    out = [Source(p.stem, p.stem.rsplit("_", 1)[0], p) for p in sorted(PEOPLE.glob("person_*.jpg"))]
    couple = PEOPLE / "stills" / "couple.jpg"
    # The woman (left) is person_a; the man (right) is none of the nine, yet 0.58
    # from person_i: the false accept the people/ README measured.
    out.append(Source("couple_left", "person_a", couple, (0, 640)))
    out.append(Source("couple_right", "stranger_x", couple, (640, 1280)))
    return out


def _place(photo: RGBImage, box: Box, spec: Spec, seed: int) -> RGBImage:
    """The photo scaled to `spec.face_px` and framed in a camera-sized picture."""
    scale = spec.face_px / box.height
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=interp)
    cy, cx = (int(v * scale) for v in box.centre)
    frame = np.full((FRAME_H, FRAME_W, 3), 90, np.uint8)
    # Where the face's centre lands: mid-frame, or across the left edge when cut.
    width = round(box.width * scale)
    target_x = round(width * (0.5 - spec.cut)) if spec.cut else FRAME_W // 2
    target_y = FRAME_H // 2
    dx, dy = target_x - cx, target_y - cy
    src_x0, src_y0 = max(0, -dx), max(0, -dy)
    dst_x0, dst_y0 = max(0, dx), max(0, dy)
    w = min(small.shape[1] - src_x0, FRAME_W - dst_x0)
    h = min(small.shape[0] - src_y0, FRAME_H - dst_y0)
    piece = small[src_y0 : src_y0 + h, src_x0 : src_x0 + w]
    frame[dst_y0 : dst_y0 + h, dst_x0 : dst_x0 + w] = piece
    if spec.motion_blur:
        kernel = np.zeros((1, spec.motion_blur), np.float32)
        kernel[:] = 1.0 / spec.motion_blur
        frame = cv2.filter2D(frame, -1, kernel)
    if spec.dim:
        rng = np.random.default_rng(seed)
        dark = frame.astype(np.float32) * 0.35 + rng.normal(0, 6, frame.shape)
        frame = np.clip(dark, 0, 255).astype(np.uint8)
        ok, jpg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 35])
        assert ok
        frame = cv2.imdecode(jpg, cv2.IMREAD_UNCHANGED)
    return np.ascontiguousarray(frame)


def _main_face(engine: FaceEngine, photo: RGBImage) -> Box:
    boxes = engine.detect(photo, max(40, max(photo.shape[:2]) // 15))
    if not boxes:
        raise RuntimeError("no face in a source photo")
    return max(boxes, key=lambda b: b.height)


def _digest(items: list[Source]) -> str:
    h = hashlib.sha256(f"v{LOOK_VERSION}{VISIT}".encode())
    for s in items:
        h.update(s.key.encode())
        h.update(hashlib.sha256(s.path.read_bytes()).digest())
    return h.hexdigest()[:16]


class LookTable:
    """The looks of a benchmark as parallel columns, saved as one .npz."""

    def __init__(self) -> None:
        self.rows: dict[str, list[object]] = {
            k: [] for k in ("key", "person", "t", "spec", "found")
        }
        self.vectors: list[np.ndarray] = []
        self.marks: list[np.ndarray] = []
        self.boxes: list[tuple[int, ...]] = []
        self.measures: list[tuple[float, ...]] = []

    def add(self, key: str, person: str, t: float, spec: str, seen: tuple | None) -> None:
        """One look; `seen` is (grey frame, box, embedding, landmarks), None if no face."""
        values = (key, person, round(t, 3), spec, seen is not None)
        for column, value in zip(self.rows, values, strict=True):
            self.rows[column].append(value)
        if seen is None:
            self.vectors.append(np.zeros(128))
            self.marks.append(np.zeros((5, 2)))
            self.boxes.append((0, 0, 0, 0))
            self.measures.append((0, 0.0, 0.0, 0.0, 1, 0.0))
            return
        grey, box, vector, marks = seen
        self.vectors.append(vector)
        self.marks.append(marks)
        self.boxes.append(tuple(box))
        look = measure(grey, box, marks)
        self.measures.append(
            (look.face_px, look.sharpness, look.yaw, look.pitch, int(look.cut), look.contrast)
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns as the arrays `load` returns."""
        return {
            **{k: np.asarray(v) for k, v in self.rows.items()},
            "vector": np.asarray(self.vectors),
            "landmarks": np.asarray(self.marks),
            "box": np.asarray(self.boxes),
            "measure": np.asarray(self.measures, dtype=np.float64),
        }


def build(engine: FaceEngine) -> dict[str, np.ndarray]:
    """Every look of every visit: the arrays of the cache (see `load`)."""
    table = LookTable()
    for si, src in enumerate(sources()):
        photo = read_rgb(src.path)
        if src.crop is not None:
            photo = np.ascontiguousarray(photo[:, src.crop[0] : src.crop[1]])
        face = _main_face(engine, photo)
        for li, spec in enumerate(VISIT):
            frame = _place(photo, face, spec, seed=si * 100 + li)
            grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            found = [b for b in engine.detect(grey, MIN_FACE_PX) if b.height >= 0.8 * MIN_FACE_PX]
            seen = None
            if found:
                # The face nearest the frame's centre of the face: the visitor, not a poster.
                best = min(found, key=lambda b: abs(b.centre[0] - FRAME_H / 2))
                vec, lm = engine.embed_faces(frame, [best])
                seen = (grey, best, vec[0], lm[0])
            table.add(src.key, src.person, li * STEP_S, json.dumps(spec.__dict__), seen)
    return table.arrays()


def look_of(data: dict[str, np.ndarray], i: int) -> Look:
    """The quality of look `i`, as watcher measured it."""
    face_px, sharp, yaw, pitch, cut, contrast = data["measure"][i]
    return Look(int(face_px), float(sharp), float(yaw), float(pitch), bool(cut), float(contrast))


def load(engine_factory: object | None = None) -> dict[str, np.ndarray]:
    """The looks, from bench/out's cache when the photos and the drawing are unchanged."""
    digest = _digest(sources())
    if CACHE.exists():
        data = dict(np.load(CACHE, allow_pickle=False))
        if str(data.get("digest")) == digest:
            return data
    from watcher.faces import open_engine

    data = build(open_engine())
    data["digest"] = np.asarray(digest)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(CACHE, **data)
    return data
