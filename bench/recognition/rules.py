"""The rules compared: watcher's decider as it runs, and the references it must beat.

- **watcher**: the real `Decider` with the open-set rule (the shipped defaults).
- **watcher fixed 0.6**: the same tracker and evidence, one fixed bound (`rule: fixed`).
- **first look 0.6 / 0.5 / 0.45**: watcher's former rule: each look matched at a
  fixed distance, a face once matched stays known, two unknown looks in a row
  make a stranger.
- **naive 0.6**: face_recognition's loop: any look with no photo within 0.6 is
  an alarm, at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.recognition import looks
from watcher.core import Box
from watcher.decide.evidence import Observation
from watcher.decide.tracker import Decider
from watcher.faces.openset import OpenSetRule

FRAME = (looks.FRAME_W, looks.FRAME_H)
STRANGER_X = "stranger_x"


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

    @property
    def delay(self) -> float | None:
        """Seconds from the first good look to the event (from the first look if none)."""
        if self.alarm_t is None:
            return None
        return round(self.alarm_t - (self.first_good_t or 0.0), 3)


Look = tuple[float, Box, np.ndarray, int]  # (t, box, embedding, row index)
RuleFn = Callable[[list[str], np.ndarray, list[Look], dict], tuple[float | None, str | None]]


def _watcher(kind: str, tolerance: float) -> RuleFn:
    def run(names, matrix, visit, data):  # type: ignore[no-untyped-def]
        rule = OpenSetRule(names, matrix, tolerance, per_person=kind == "open_set")
        decider = Decider(confirm_frames=2)
        named = None
        for t, box, vector, i in visit:
            tracks = decider.assign(t, [box], FRAME)
            fresh = None
            if decider.needs_embedding(tracks[0], t):
                fresh = Observation(vector, looks.look_of(data, i))
            decision = decider.judge(t, tracks, [fresh], rule)
            named = tracks[0].name or named
            if decision.confirmed:
                return t, named
        return None, named

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
    "watcher fixed 0.6": _watcher("fixed", 0.6),
    "first look 0.6": _first_look(0.6),
    "first look 0.5": _first_look(0.5),
    "first look 0.45": _first_look(0.45),
    "naive 0.6": _naive(0.6),
}


def visits_of(rule: RuleFn, scene: Scene, data: dict) -> list[Outcome]:
    """The rule's outcome on every visit of the scene (each photo not in the gallery)."""
    keys = data["key"]
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    in_gallery = {k for ks in scene.gallery.values() for k in ks}
    # A gallery photo's row is its sharpest, biggest look (the photo at 220 px).
    names, rows = [], []
    for person, ks in sorted(scene.gallery.items()):
        for k in ks:
            i = _gallery_row(data, first[k])
            names.append(person)
            rows.append(data["vector"][i])
    matrix = np.asarray(rows) if rows else np.empty((0, 128))
    out = []
    for key in dict.fromkeys(keys):
        if key in in_gallery:
            continue
        person = str(data["person"][first[key]])
        stranger = person == scene.left_out or person == STRANGER_X
        visit: list[Look] = []
        good_t = None
        for i in range(first[key], first[key] + len(looks.VISIT)):
            if not data["found"][i]:
                continue
            t = float(data["t"][i])
            visit.append((t, Box(*(int(v) for v in data["box"][i])), data["vector"][i], i))
            if good_t is None and looks.look_of(data, i).good:
                good_t = t
        alarm_t, named = rule(names, matrix, visit, data)
        wrong = not stranger and named is not None and named != person
        out.append(Outcome(key, person, stranger, alarm_t, good_t, wrong))
    return out


def _gallery_row(data: dict, start: int) -> int:
    """The look of a photo that stands for it in a gallery: its sharp 220 px one."""
    for i in range(start, start + len(looks.VISIT)):
        spec = looks.VISIT[i - start]
        if spec.face_px == 220 and not spec.motion_blur and data["found"][i]:
            return i
    raise RuntimeError(f"no gallery look for {data['key'][start]}")
