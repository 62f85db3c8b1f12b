"""Where the face detector searches: moving regions, and the surroundings of faces in view.

Each search region carries the smallest face worth finding in it: the
configured minimum where something new moves, but around a face already
tracked only faces near its size, which lets the detector work on a much
smaller picture.
"""

from __future__ import annotations

from watcher.core import Box

# (region, smallest face height to find in it, in source pixels)
SearchRegion = tuple[Box, int]

# Past this share of the frame, one full-frame search costs about what its crops do.
_FULL_FRAME_SHARE = 0.85
# Around where a tracked face should be (its last box, and that box moved on as
# it was moving), search this many face sizes on each side: a head turns, a
# person shifts their weight. Half a face: a walking face is followed by its
# velocity, not by a wide margin.
_TRACK_MARGIN = 0.5
# A tracked face is looked for again down to this share of its last height.
_TRACK_SHRINK = 0.65
# A moving region is grown by this many minimum faces: a walking body's blob
# may end at the neck.
_MOTION_MARGIN = 1.0


def _grow(box: Box, by: int, width: int, height: int) -> Box:
    return Box(*box).grown(by).clamped(width, height)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[3] < b[1] and b[3] < a[1]


def _union(a: Box, b: Box) -> Box:
    return Box(min(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]))


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


def _at_least(box: Box, size: int, width: int, height: int) -> Box:
    """Grow a box to at least `size` across each way (a face must fit in it)."""
    need_h = max(0, size - (box[2] - box[0])) // 2
    need_w = max(0, size - (box[1] - box[3])) // 2
    return _grow(box, max(need_h, need_w), width, height)


def motion_regions(motion: list[Box], width: int, height: int, min_face_px: int) -> list[Box]:
    """Moving areas grown to hold a face, merged; the whole frame when they cover most of it."""
    grown = [
        _at_least(
            _grow(b, int(min_face_px * _MOTION_MARGIN), width, height),
            2 * min_face_px,
            width,
            height,
        )
        for b in motion
    ]
    regions = merge(grown)
    area = sum((b[2] - b[0]) * (b[1] - b[3]) for b in regions)
    if regions and area > _FULL_FRAME_SHARE * width * height:
        return [Box(0, width, height, 0)]
    return regions


# A tracked face: its last box, and where it should be now.
TrackedFace = tuple[Box, Box]


def face_regions(
    faces: list[TrackedFace], width: int, height: int, min_face_px: int
) -> list[SearchRegion]:
    """Around each tracked face, a region to find it again, searched at its own size."""
    out: list[SearchRegion] = []
    for face, expected in faces:
        size = max(face[2] - face[0], face[1] - face[3], min_face_px)
        box = _at_least(
            _grow(_union(face, expected), int(size * _TRACK_MARGIN), width, height),
            2 * size,
            width,
            height,
        )
        out.append((box, max(min_face_px, int(size * _TRACK_SHRINK))))
    return out


def search_regions(
    motion: list[Box],
    faces: list[TrackedFace],
    width: int,
    height: int,
    min_face_px: int,
    sized: list[SearchRegion] | None = None,
) -> list[SearchRegion]:
    """Regions to search: moving areas at the minimum face size, tracked faces at theirs,
    and `sized` moving areas each for faces down to its own size."""
    regions = [(box, min_face_px) for box in motion_regions(motion, width, height, min_face_px)]
    for smallest in sorted({size for _, size in sized or []}):
        boxes = [box for box, size in sized or [] if size == smallest]
        regions += [(box, smallest) for box in motion_regions(boxes, width, height, smallest)]
    return _uncovered(regions + face_regions(faces, width, height, min_face_px))


def _inside(inner: Box, outer: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and inner[1] <= outer[1]
        and inner[2] <= outer[2]
        and outer[3] <= inner[3]
    )


def _uncovered(regions: list[SearchRegion]) -> list[SearchRegion]:
    """The regions without those another one covers: a region inside one searched for
    faces as small or smaller holds no face that search misses (around a face just
    come in, its own search lies within its body's)."""
    out: list[SearchRegion] = []
    for i, (box, smallest) in enumerate(regions):
        covered = any(
            size <= smallest and _inside(box, other) and ((other, size) != (box, smallest) or j < i)
            for j, (other, size) in enumerate(regions)
            if j != i
        )  # (of two alike, the first is kept)
        if not covered:
            out.append((box, smallest))
    return out
