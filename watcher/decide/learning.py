"""Which sightings may teach watcher a known person's look at a camera, and which look.

Only a visit the rule was sure of: decided known on enough good looks, its
median distance well inside the person's bound (LEARN_INSIDE), the next person
well behind (LEARN_MARGIN), and every good look of the visit known as that same
person on its own. An unclear face, a face near two people or a visit with one
odd look teaches nothing. Of the visit's looks, the one least like the person's
rows is kept (a new angle, new light), so a few learned looks cover much.
bench/recognition counts how many strangers' looks were ever taught: none.
"""

from __future__ import annotations

import numpy as np

from watcher.core import Embeddings
from watcher.decide.evidence import Finding, LookWindow
from watcher.faces.openset import Kind, OpenSetRule

LEARN_INSIDE = 0.06
LEARN_MARGIN = 0.15


def lesson(finding: Finding, looks: LookWindow, rule: OpenSetRule) -> Embeddings | None:
    """The look to learn from this visit, or None when the visit is not sure enough."""
    verdict = finding.verdict
    if not finding.good or verdict.kind is not Kind.KNOWN or verdict.name is None:
        return None
    assert verdict.distance is not None and verdict.bound is not None
    if verdict.distance > verdict.bound - LEARN_INSIDE:
        return None
    if verdict.second is not None and verdict.second - verdict.distance < LEARN_MARGIN:
        return None
    vectors = np.asarray(looks.good)
    if any(rule.judge(v).name != verdict.name for v in vectors):
        return None
    mine = np.asarray(rule.names) == verdict.name
    photos = rule.matrix[mine & rule.reference]
    own = rule.matrix[mine]
    # Only looks well inside the person's bound from their photos may be learned:
    # a learned look at the edge would carry their reach toward a look-alike.
    to_photos = np.linalg.norm(vectors[:, None, :] - photos[None, :, :], axis=2).min(axis=1)
    inside = to_photos <= verdict.bound - LEARN_INSIDE
    if not inside.any():
        return None
    novelty = np.linalg.norm(vectors[:, None, :] - own[None, :, :], axis=2).min(axis=1)
    novelty[~inside] = -1.0
    best: Embeddings = vectors[int(novelty.argmax())]
    return best
