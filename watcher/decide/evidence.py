"""A face's evidence: its recent usable looks, and what the open-set rule makes of them.

Good looks (big, sharp, frontal, whole, lit) decide: the median of their
distances to each person is judged, so neither one look's noise nor one odd look
decides a visit. Poor looks (small, blurred or dark) decide only while no good
look exists, and only clearly (POOR_SLACK): a stranger who never comes close is
still found when far from everyone. Looks with a pose flaw or cut by the frame's
edge are not evidence at all: they embed to another face.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from watcher.core import Embeddings, RGBImage
from watcher.faces.openset import Kind, OpenSetRule, Verdict
from watcher.faces.quality import Look

# A poor look's embedding drifts toward everyone (bench/recognition: a motion
# streak moves a person's looks from 0.35 to 0.52 from their own photos, up to
# 0.65, and the nearest stranger from 0.72 to 0.67): poor looks count only this
# far within the bound, or beyond both the bound and the tolerance.
POOR_SLACK = 0.08
# Poor looks need one more than good ones before a face is called a stranger.
POOR_EXTRA = 1
# A face only just beyond its nearest person's bound (by up to NEAR_BAND) is called
# a stranger on twice as many good looks: the household's own looks at a new
# camera land a little farther than its photos (the Hamilton clip's performer:
# 0.57 and 0.50 from his photo on his first two good looks, 0.50 over four), and
# a few more looks cost well under a second where a false alarm costs trust. A
# stranger who resembles someone stays beyond the bound look after look.
NEAR_BAND = 0.05


@dataclass(frozen=True)
class Observation:
    """One fresh embedding of a tracked face, how good the look was, and its pixels."""

    embedding: Embeddings
    look: Look
    crop: RGBImage | None = None  # kept (database, crop file) only for strangers


@dataclass(frozen=True)
class Finding:
    """The rule's verdict on a track's evidence, and how many looks it rests on."""

    verdict: Verdict
    looks: int
    good: bool  # resting on good looks (else on poor ones)

    def explain(self) -> str:
        """One line: the verdict and the looks behind it."""
        kind = "good" if self.good else "poor"
        return f"{self.verdict.explain()}; median of {self.looks} {kind} look(s)"


class LookWindow:
    """The latest usable looks of one face, good and poor kept apart."""

    def __init__(self, size: int) -> None:
        """Keep at most `size` looks of each kind (the newest)."""
        self.good: deque[Embeddings] = deque(maxlen=size)
        self.poor: deque[Embeddings] = deque(maxlen=size)

    def add(self, obs: Observation) -> str | None:
        """Take a look as evidence; the reason it is not evidence, if it is not."""
        flaw = obs.look.flaw
        if obs.look.good:
            self.good.append(obs.embedding)
            return None
        if obs.look.cut or not obs.look.frontal:
            return flaw
        self.poor.append(obs.embedding)
        return None

    def finding(self, rule: OpenSetRule, confirm_frames: int) -> Finding | None:
        """The verdict on the good looks' median distances to each person; while they
        are too few to act on, a clear verdict of enough poor looks is taken instead
        (a face seen sharp once among many dim looks is not left undecided)."""
        good = poor = None
        if self.good:
            dists = rule.distances(np.asarray(self.good))
            good = Finding(rule.decide(np.median(dists, axis=0)), len(self.good), True)
            if enough(good, confirm_frames):
                return good
        if self.poor:
            dists = rule.distances(np.asarray(self.poor))
            verdict = rule.decide(np.median(dists, axis=0), slack=POOR_SLACK, poor=True)
            poor = Finding(verdict, len(self.poor), False)
            if good is None or (verdict.kind is not Kind.UNCLEAR and enough(poor, confirm_frames)):
                return poor
        return good


def enough(finding: Finding, confirm_frames: int) -> bool:
    """Whether the finding rests on enough looks to act on."""
    verdict = finding.verdict
    if not finding.good:
        need = confirm_frames + POOR_EXTRA
    elif (
        verdict.kind is Kind.UNKNOWN
        and verdict.distance is not None
        and verdict.bound is not None
        and verdict.distance <= verdict.bound + NEAR_BAND
    ):
        need = 2 * confirm_frames
    else:
        need = confirm_frames
    return finding.looks >= need
