"""The open-set rule: is a face one of the known people, someone else, or not yet clear?

A fixed distance cannot be right for every household: dlib puts one person's
photos 0.3-0.6 apart and relatives 0.42-0.57 apart, so the distance that accepts
a father's small, side-lit face also accepts his brother. The rule therefore uses
what the gallery itself shows, per person:

* **own**: how far a new look of the person usually lands from their nearest
  photo: the median, over their photos, of the distance to their nearest other
  photo (a person with one photo gets OWN_PRIOR, the median of people/'s 47).
* **neighbour**: the distance from the person's photos to the nearest photo of
  anybody else in the gallery: a look-alike stranger is likely to land about
  that far from them too.
  anybody else in the gallery: a look-alike stranger is likely to land about
  that far from them too.
* **bound** = halfway between the two, never over `tolerance` (the user's cap)
  nor under BOUND_FLOOR. A person 0.8 or more from everyone (or alone in the
  gallery) keeps the tolerance, 0.6; one 0.70 from the nearest other person
  gets (0.40 + 0.70) / 2 = 0.55; one 0.51 from a brother (0.40 + 0.51) / 2 = 0.455.

A face is **known** as P when it is within P's bound *and* clearly nearer to P
than to anyone else (MIN_MARGIN): a face halfway between two relatives is neither.
It is **unknown** when it lies beyond the nearest person's bound (the tracker
asks for more looks when it lies only just beyond: decide/evidence.py). Anything
else is **unclear**: neither an alarm nor a name.

The tracker applies this to a face's distances averaged over its recent good
looks, not to one frame: one look's noise averages out (the performer of the
Hamilton clip is 0.31-0.57 from his photo, look by look), while a stranger's
likeness to a relative does not. Averaging distances, not embeddings, keeps the
bounds' meaning: a mean embedding sits nearer to everyone than any real look.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from watcher.core import Embeddings

# A look of a person lands about this far from their nearest photo when the
# gallery cannot say (one photo): the median nearest-other-photo distance of the
# 47 photos of nine people in ../shared/media/people is 0.35; camera looks are
# farther than press photos, so a little more.
OWN_PRIOR = 0.40
# Two photos of one person closer than this say little about how far a camera's
# look lands (the same shoot, seconds apart): own is never taken under it.
OWN_FLOOR = 0.33
# A bound under this would turn the person's own sharp looks away (their p90 from
# their other photos is 0.41): the person cannot be told from their neighbour,
# which `watcher faces check` says.
BOUND_FLOOR = 0.38
# Known only when the second-nearest person is at least this much farther: a
# face at 0.44 from one brother and 0.47 from another is a relative, not either.
MIN_MARGIN = 0.05


class Kind(Enum):
    """What the rule says of a face."""

    KNOWN = "known"
    UNKNOWN = "unknown"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Verdict:
    """The rule's answer for one look, or for the median distances of several."""

    kind: Kind
    nearest: str | None  # the nearest known person (None: an empty gallery)
    distance: float | None  # to the nearest person's nearest photo
    bound: float | None  # that person's bound
    second: float | None  # distance to the second-nearest person

    @property
    def name(self) -> str | None:
        """The person, when known."""
        return self.nearest if self.kind is Kind.KNOWN else None

    def explain(self) -> str:
        """One line on why, for logs and the event's record."""
        if self.nearest is None or self.distance is None or self.bound is None:
            return "unknown: the gallery is empty"
        where = f"{self.distance:.3f} from {self.nearest} (bound {self.bound:.3f}"
        if self.second is not None:
            where += f", next person {self.second:.3f}"
        where += ")"
        if self.kind is Kind.KNOWN:
            return f"known: {where}"
        if self.kind is Kind.UNKNOWN:
            return f"unknown: {where}"
        return f"unclear: {where}"


class OpenSetRule:
    """Per-person bounds computed once per gallery; `judge` is one vectorised distance."""

    def __init__(
        self,
        names: list[str],
        matrix: Embeddings,
        tolerance: float,
        *,
        per_person: bool = True,
        reference: list[bool] | None = None,
    ) -> None:
        """`names` and `matrix` are the gallery's rows; `reference[i]` False marks a row
        learned at a camera (it sharpens matching but not the bounds, which come from
        the user's photos). `per_person` False is the fixed rule: every bound is
        `tolerance` and no margin is asked."""
        self.names = names
        self.matrix = matrix
        self.tolerance = tolerance
        self.per_person = per_person
        self.people = sorted(set(names))
        self._index = np.asarray([self.people.index(n) for n in names], dtype=np.int64)
        ref = np.asarray(reference if reference is not None else [True] * len(names), bool)
        self.reference = ref  # rows that are the user's photos (the others were learned)
        self.bounds = {p: tolerance for p in self.people}
        self.own: dict[str, float] = {}
        self.neighbour: dict[str, tuple[str, float] | None] = {}
        if per_person:
            self._fit(ref)

    def _fit(self, ref: np.ndarray) -> None:
        rows = self.matrix[ref]
        idx = self._index[ref]
        if len(rows) == 0:
            return
        dist = np.linalg.norm(rows[:, None, :] - rows[None, :, :], axis=2)
        np.fill_diagonal(dist, np.inf)
        for pi, person in enumerate(self.people):
            mine = idx == pi
            if not mine.any():
                continue
            own = OWN_PRIOR
            if mine.sum() >= 2:
                nearest_own = dist[np.ix_(mine, mine)].min(axis=1)
                own = max(OWN_FLOOR, float(np.median(nearest_own)))
            others = dist[np.ix_(mine, ~mine)]
            if others.size:
                flat = int(others.argmin())
                near = float(others.flat[flat])
                other_rows = np.flatnonzero(~mine)
                who = self.people[int(idx[other_rows[flat % others.shape[1]]])]
                self.neighbour[person] = (who, near)
            else:
                self.neighbour[person] = None
                near = np.inf  # nobody to be taken for: the user's tolerance decides
            bound = min(self.tolerance, (own + near) / 2)
            self.own[person] = own
            self.bounds[person] = max(min(BOUND_FLOOR, self.tolerance), bound)

    def distances(self, vectors: Embeddings) -> np.ndarray:
        """For each row of `vectors` (or one vector), the distance to each person's
        nearest photo: shape (rows, people), people in `self.people` order."""
        rows = np.atleast_2d(vectors)
        best = np.full((len(rows), len(self.people)), np.inf)
        if self.names:
            each = np.linalg.norm(rows[:, None, :] - self.matrix[None, :, :], axis=2)
            for pi in range(len(self.people)):
                best[:, pi] = each[:, self._index == pi].min(axis=1)
        return best

    def judge(self, vector: Embeddings, slack: float = 0.0) -> Verdict:
        """The verdict on one look."""
        return self.decide(self.distances(vector)[0], slack)

    def decide(self, scores: np.ndarray, slack: float = 0.0, poor: bool = False) -> Verdict:
        """Known, unknown or unclear, from the distance to each person (over one look or
        several). For `poor` looks, `slack` widens the unclear band on both sides and a
        stranger must also be beyond `tolerance`: a poor look's distance says little
        about likeness, only that a face is far from everyone."""
        if not self.people:
            return Verdict(Kind.UNKNOWN, None, None, None, None)
        order = np.argsort(scores)
        nearest, d1 = self.people[int(order[0])], float(scores[order[0]])
        d2 = float(scores[order[1]]) if len(order) > 1 else None
        bound = self.bounds[nearest]
        margin = MIN_MARGIN if self.per_person else 0.0
        unknown_at = max(bound, self.tolerance if poor else 0.0) + slack
        if d1 > unknown_at:
            kind = Kind.UNKNOWN
        elif d1 <= bound - slack and (d2 is None or d2 - d1 >= margin):
            kind = Kind.KNOWN
        else:
            kind = Kind.UNCLEAR
        return Verdict(kind, nearest, d1, bound, d2)

    def confusable(self) -> list[tuple[str, str, float]]:
        """Pairs whose bounds had to be held at BOUND_FLOOR: the rule cannot tell them apart."""
        out = []
        for person, near in self.neighbour.items():
            if near is None:
                continue
            own = self.own.get(person, OWN_PRIOR)
            if (own + near[1]) / 2 < BOUND_FLOOR and person < near[0]:
                out.append((person, near[0], near[1]))
        return out
