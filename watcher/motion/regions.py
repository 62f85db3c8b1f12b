"""Where the face detector searches: moving regions and the surroundings of faces in view."""

from __future__ import annotations

from watcher.faces.engine import Box

# Past this share of the frame, one full-frame search is cheaper than many crops.
_FULL_FRAME_SHARE = 0.6
# Around a tracked face, search this many face sizes on each side: a person
# standing still is still searched for, so their track (and an event) lives on.
_TRACK_MARGIN = 1.0
# A moving region is grown by this many minimum faces: a walking body's blob
# may end at the neck.
_MOTION_MARGIN = 1.0


def _grow(box: Box, by: int, width: int, height: int) -> Box:
    top, right, bottom, left = box
    return (max(0, top - by), min(width, right + by), min(height, bottom + by), max(0, left - by))


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[3] < b[1] and b[3] < a[1]


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]))


def merge(boxes: list[Box]) -> list[Box]:
    """Union overlapping boxes until none overlap (so no face is searched twice)."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        out: list[Box] = []
        for box in merged:
            for i, other in enumerate(out):
                if _overlap(box, other):
                    out[i] = _union(box, other)
                    changed = True
                    break
            else:
                out.append(box)
        merged = out
    return merged


def search_regions(
    motion: list[Box], faces: list[Box], width: int, height: int, min_face_px: int
) -> list[Box]:
    """Regions to search: moving areas and tracked faces, grown, merged; [] for none."""
    grown = [_grow(b, int(min_face_px * _MOTION_MARGIN), width, height) for b in motion]
    for face in faces:
        size = max(face[2] - face[0], face[1] - face[3], min_face_px)
        grown.append(_grow(face, int(size * _TRACK_MARGIN), width, height))
    # Too small to hold a face: grow to at least two minimum faces across.
    floor = 2 * min_face_px
    sized = []
    for box in grown:
        need_h = max(0, floor - (box[2] - box[0])) // 2
        need_w = max(0, floor - (box[1] - box[3])) // 2
        sized.append(_grow(box, max(need_h, need_w), width, height))
    regions = merge(sized)
    area = sum((b[2] - b[0]) * (b[1] - b[3]) for b in regions)
    if regions and area > _FULL_FRAME_SHARE * width * height:
        return [(0, width, height, 0)]
    return regions
