"""The rules compared: watcher's decider as it runs, and the references it must beat.

- **watcher**: the real `Decider` with the open-set rule (the shipped defaults).
- **watcher ungraded**: the same, every look taken as a good one (an ablation:
  what the quality grading is worth).
- **watcher fixed 0.6**: the same tracker and evidence, one fixed bound (`rule: fixed`).
- **first look 0.6 / 0.5 / 0.45**: watcher's former rule: each look matched at a
  fixed distance, a face once matched stays known, two unknown looks in a row
  make a stranger.
- **naive 0.6**: face_recognition's loop: any look with no photo within 0.6 is
  an alarm, at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from bench.recognition import looks
from watcher.core import Box
from watcher.decide.evidence import Observation
from watcher.decide.tracker import Decider
from watcher.faces import learned
from watcher.faces.openset import OpenSetRule
from watcher.faces.quality import Look as Quality

FRAME = (looks.FRAME_W, looks.FRAME_H)
# A stranger this close to someone in the gallery (their sharp looks) is a look-alike:
# dlib's own 0.6 would take them for that person.
LOOK_ALIKE = 0.6
STRANGER_PREFIX = "stranger_"  # stranger_x of couple.jpg, the Hamilton audience face


@dataclass(frozen=True)
class Scene:
    """A gallery (photo keys per person) and who is left out of it."""

    per_person: int
    left_out: str
    gallery: dict[str, list[str]]


@dataclass(frozen=True)
class Outcome:
    """What a rule made of one visit."""

    key: str
    person: str
    stranger: bool
    alarm_t: float | None  # when the rule raised an event (None: never)
    first_good_t: float | None  # the first good look of the visit
    wrong_name: bool  # a known person's visit named as somebody else
    nearest: float  # the visitor's sharp look's distance to the nearest gallery photo

    @property
    def delay(self) -> float | None:
        """Seconds from the first good look to the event (from the first look if none)."""
        if self.alarm_t is None:
            return None
        return round(self.alarm_t - (self.first_good_t or 0.0), 3)


Look = tuple[float, Box, np.ndarray, int]  # (t, box, embedding, row index)
RuleFn = Callable[[list[str], np.ndarray, list[Look], dict], tuple[float | None, str | None]]


class Learned:
    """The looks a scene's visits taught (faces/learned.py's rules, kept in memory)."""

    def __init__(self) -> None:
        self.looks: dict[str, np.ndarray] = {}
        self.from_strangers = 0  # looks taught by a stranger's visit: must stay 0
        self.taught = 0

    def rows(
        self, names: list[str], matrix: np.ndarray
    ) -> tuple[list[str], np.ndarray, list[bool]]:
        """The gallery's photos and, after them, the learned looks of its people."""
        extra = [(p, v) for p, vs in self.looks.items() if p in names for v in vs]
        all_names = names + [p for p, _ in extra]
        rows = np.vstack([matrix, *[v[None, :] for _, v in extra]]) if extra else matrix
        return all_names, rows, [True] * len(names) + [False] * len(extra)

    def teach(self, person: str, vector: np.ndarray, stranger: bool) -> None:
        current = self.looks.get(person, np.empty((0, 128)))
        keep = learned.kept(current, vector)
        if keep is not None:
            self.looks[person] = np.vstack([current[keep], vector[None, :]])
            self.taught += 1
            self.from_strangers += stranger


# What every look is taken for when grading is switched off (the ablation row).
_UNGRADED = Quality(face_px=200, sharpness=10.0, yaw=0.0, pitch=0.8, cut=False, contrast=50.0)


def _watcher(kind: str, tolerance: float, graded: bool = True) -> RuleFn:
    def run(names, matrix, visit, data, memory=None, stranger=False):  # type: ignore[no-untyped-def]
        rows = memory.rows(names, matrix) if memory is not None else (names, matrix, None)
        rule = OpenSetRule(
            rows[0], rows[1], tolerance, per_person=kind == "open_set", reference=rows[2]
        )
        decider = Decider(confirm_frames=2)
        named, alarm = None, None
        for t, box, vector, i in visit:
            tracks = decider.assign(t, [box], FRAME)
            fresh = None
            if decider.needs_embedding(tracks[0], t):
                look = looks.look_of(data, i)
                fresh = Observation(vector, look if graded else replace(_UNGRADED, cut=look.cut))
            decision = decider.judge(t, tracks, [fresh], rule)
            named = tracks[0].name or named
            if memory is not None:
                for person, look in decision.lessons:
                    memory.teach(person, look, stranger)
            if decision.confirmed and alarm is None:
                alarm = t
                if memory is None:
                    break
        return alarm, named

    return run


def _first_look(tolerance: float) -> RuleFn:
    def run(names, matrix, visit, data):  # type: ignore[no-untyped-def]
        name, run_length = None, 0
        for t, _box, vector, i in visit:
            if looks.look_of(data, i).cut:
                continue  # the former tracker waited for a whole face too
            d = np.linalg.norm(matrix - vector, axis=1) if len(names) else np.array([np.inf])
            if d.min() <= tolerance:
                name = names[int(d.argmin())]
            if name is not None:
                continue
            run_length += 1
            if run_length >= 2:
                return t, None
        return None, name

    return run


def _naive(tolerance: float) -> RuleFn:
    def run(names, matrix, visit, data):  # type: ignore[no-untyped-def]
        for t, _, vector, _ in visit:
            d = np.linalg.norm(matrix - vector, axis=1) if len(names) else np.array([np.inf])
            if d.min() > tolerance:
                return t, None
        return None, None

    return run


RULES: dict[str, RuleFn] = {
    "watcher": _watcher("open_set", 0.6),
    "watcher + learning": _watcher("open_set", 0.6),
    "watcher ungraded": _watcher("open_set", 0.6, graded=False),
    "watcher fixed 0.6": _watcher("fixed", 0.6),
    "first look 0.6": _first_look(0.6),
    "first look 0.5": _first_look(0.5),
    "first look 0.45": _first_look(0.45),
    "naive 0.6": _naive(0.6),
}


def gallery_rows(scene: Scene, data: dict) -> tuple[list[str], np.ndarray]:
    """The scene's gallery: each photo's row is its sharpest, biggest look (220 px)."""
    first = {k: i for i, k in reversed(list(enumerate(data["key"])))}
    names, rows = [], []
    for person, ks in sorted(scene.gallery.items()):
        for k in ks:
            names.append(person)
            rows.append(data["vector"][_gallery_row(data, first[k])])
    return names, (np.asarray(rows) if rows else np.empty((0, 128)))


def visits_of(
    rule: RuleFn,
    scene: Scene,
    data: dict,
    memory: Learned | None = None,
    gallery: tuple[list[str], np.ndarray] | None = None,
    known: set[str] | None = None,
) -> list[Outcome]:
    """The rule's outcome on every visit of the scene (each photo not in the gallery).

    With `memory`, the visits teach it as they go: every visit is played twice, the
    first round teaching, the second reported (a household's looks are learned at
    its camera before they are relied on). `gallery` replaces the scene's photos, and
    `known` says who is in it (anyone else is a stranger)."""
    names, matrix = gallery if gallery is not None else gallery_rows(scene, data)
    in_gallery = {k for ks in scene.gallery.values() for k in ks}
    rows: dict[str, list[int]] = {}
    for i, key in enumerate(data["key"]):
        if str(key) not in in_gallery:
            rows.setdefault(str(key), []).append(i)
    out: list[Outcome] = []
    for _ in range(2 if memory is not None else 1):
        out = [
            _visit(rule, scene, data, idx, names, matrix, memory, known) for idx in rows.values()
        ]
    return out


def _visit(
    rule: RuleFn,
    scene: Scene,
    data: dict,
    idx: list[int],
    names: list[str],
    matrix: np.ndarray,
    memory: Learned | None,
    known: set[str] | None = None,
) -> Outcome:
    person = str(data["person"][idx[0]])
    if known is not None:
        stranger = person not in known
    else:
        stranger = person == scene.left_out or person.startswith(STRANGER_PREFIX)
    visit: list[Look] = []
    good_t = None
    for i in idx:
        if not data["found"][i]:
            continue
        t = float(data["t"][i])
        visit.append((t, Box(*(int(v) for v in data["box"][i])), data["vector"][i], i))
        if good_t is None and looks.look_of(data, i).good:
            good_t = t
    if memory is not None:
        alarm_t, named = rule(names, matrix, visit, data, memory, stranger)  # type: ignore[call-arg]
    else:
        alarm_t, named = rule(names, matrix, visit, data)
    wrong = not stranger and named is not None and named != person
    # How like someone of the gallery the visitor is: their sharp photo look if they
    # have one, else the median of their looks.
    try:
        probe = data["vector"][_gallery_row(data, idx[0])][None, :]
    except (RuntimeError, IndexError):
        probe = np.asarray([v for _, _, v, _ in visit])
    nearest = np.inf
    if len(matrix) and len(probe):
        d = np.linalg.norm(probe[:, None, :] - matrix[None, :, :], axis=2).min(axis=1)
        nearest = float(np.median(d))
    return Outcome(str(data["key"][idx[0]]), person, stranger, alarm_t, good_t, wrong, nearest)


def _gallery_row(data: dict, start: int) -> int:
    """The look of a photo that stands for it in a gallery: its sharp 220 px one."""
    for i in range(start, min(start + len(looks.VISIT), len(data["key"]))):
        if data["key"][i] != data["key"][start] or data["spec"][i] == "{}":
            break
        spec = looks.VISIT[i - start]
        if spec.face_px == 220 and not spec.motion_blur and data["found"][i]:
            return i
    raise RuntimeError(f"no gallery look for {data['key'][start]}")
