"""dlib's check of what the ground truth claims about the encoded footage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np

from bench.footage.cutouts import cutout, face_in_frame, pose_at
from bench.footage.scenes import FPS, RGB, VISITORS, H, Visit, W
from bench.paths import OUT


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    inter = max(0.0, bottom - top) * max(0.0, right - left)
    union = (a[2] - a[0]) * (a[1] - a[3]) + (b[2] - b[0]) * (b[1] - b[3]) - inter
    return inter / union if union > 0 else 0.0


def verify(kind: str, video: Path, visits: list[Visit]) -> dict[str, Any]:
    """Check with dlib (HOG at full resolution, no upsampling) what the ground truth claims.

    Visitors: while fully in view each face is found (every frame of the walks, every
    5th frame of the stay), the known one within 0.5 of the gallery, the unknown ones
    beyond 0.65; no face anywhere else (every 10th frame). Empty: no face (every 10th frame).
    """
    from watcher.constants import HOG_WINDOW_PX
    from watcher.faces import open_engine
    from watcher.faces.gallery import load_gallery

    engine = open_engine()
    gallery = load_gallery(engine, OUT / "known_faces")
    cutouts = [cutout(v) for v in VISITORS] if kind == "visitors" else []
    problems: list[str] = []
    stats: list[dict[str, Any]] = [
        {
            "person": v.person,
            "checked": 0,
            "found": 0,
            "heights": [],
            "distances": [],
            "first_found_s": None,
        }
        for v in visits
    ]
    empty_checked = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            t = i / FPS
            active = None
            for k, (v, cut) in enumerate(zip(VISITORS if cutouts else (), cutouts, strict=True)):
                pose = pose_at(v, cut, t)
                if pose is not None:
                    active = (k, v, cut, pose)
            if active is None:
                if i % 10:
                    continue
                rgb: RGB = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
                boxes = engine.detect(rgb, HOG_WINDOW_PX)
                empty_checked += 1
                if boxes:
                    problems.append(f"{t:.2f} s: {len(boxes)} face(s) where there is no one")
                continue
            k, v, cut, pose = active
            expected = face_in_frame(cut, pose)
            fully = expected[0] >= 0 and expected[3] >= 0 and expected[2] <= H and expected[1] <= W
            walking = not (v.enter_s + v.walk_s <= t < v.enter_s + v.walk_s + v.stay_s)
            if not walking and i % 5:
                continue
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
            boxes = engine.detect(rgb, HOG_WINDOW_PX)
            hits = [b for b in boxes if _iou(tuple(float(x) for x in b), expected) > 0.3]
            if len(boxes) > len(hits):
                problems.append(f"{t:.2f} s: a face away from {v.person}'s")
            st = stats[k]
            if hits and st["first_found_s"] is None:
                st["first_found_s"] = round(t, 3)
            if not fully:
                continue
            st["checked"] += 1
            if not hits:
                problems.append(f"{t:.2f} s: {v.person} fully in view but not found")
                continue
            st["found"] += 1
            box = hits[0]
            st["heights"].append(box[2] - box[0])
            match = gallery.match(engine.embed(rgb, [box]), 0.6)[0]
            st["distances"].append(match.distance)
    for visit, st in zip(visits, stats, strict=True):
        ds = [d for d in st.pop("distances") if d is not None]
        hs = st.pop("heights")
        st["face_px"] = [min(hs), max(hs)] if hs else None
        st["distance"] = [round(min(ds), 3), round(max(ds), 3)] if ds else None
        if hs and (min(hs) < 100 or max(hs) > 250):
            problems.append(f"{visit.person}: face heights {st['face_px']} outside 100-250 px")
        if visit.known and (not ds or max(ds) >= 0.5):
            problems.append(f"{visit.person} (known): distance {st['distance']}, must be < 0.5")
        if not visit.known and (not ds or min(ds) <= 0.65):
            problems.append(f"{visit.person} (unknown): distance {st['distance']}, must be > 0.65")
    return {
        "ok": not problems,
        "detector": "dlib HOG, full resolution, upsample 0 (FaceEngine.detect at 80 px)",
        "gallery": gallery.people,
        "empty_frames_checked": empty_checked,
        "visitors": stats,
        "problems": problems,
    }
