"""How often the planner's slow lane (habitual motion: leaves, water, a screen) is
searched for faces, by what a limited source decodes and whether its cue sees.

The slow lane is the only search of a place that always moves: the motion gate
labels its motion habitual, so someone who stops there is found by this lane
alone. How long it may wait depends on what else would notice them:

* every frame decoded (someone is about, the camera decodes in full, or its source
  is one that always does: USB, MJPEG, the demo): the
  planner's usual pace (motion/planner.py, SLOW_LANE_S);
* keyframes only, the packet cue blind (a constant-bitrate camera, or one whose
  packets missed a person a keyframe then showed) or not yet sure of the scene's
  level: the keyframes carry detection
  alone, so a face in a moving place waits for this lane: KEYFRAMES_BLIND_S;
* keyframes only, the cue seeing: anyone who comes also makes the packets jump
  (measured: 7-9x within 0.1 s, on every bench scene, the tree's included), which
  turns every-frame decoding and the usual pace back on. The lane is then only a
  backstop for someone the packets did not announce - and a face it finds there
  marks the cue blind (DecodeLimiter.face_at_keyframe), which brings the quicker
  paces back. Its searches of the tree were most of what an idle camera's analysis
  cost (measured live, 720p, a keyframe every 2 s: the analysis thread 0.19 % of a
  core at 8 s, 0.10 % at 30 s, 0.05 % with the lane off).
"""

from __future__ import annotations

from typing import Final

from watcher.motion.planner import SLOW_LANE_S
from watcher.source.limiter import DecodeLimiter

# Keyframes only, cue blind: a face standing in a habitually moving place is found
# within this (one search every four keyframes of a 2 s GOP).
KEYFRAMES_BLIND_S: Final = 8.0
# Keyframes only, cue seeing: the backstop's pace.
KEYFRAMES_SEEING_S: Final = 30.0


def slow_lane_interval(limiter: DecodeLimiter | None) -> float:
    """Seconds between searches of explained and habitual motion, for this source now."""
    if limiter is None or not limiter.keyframes_only:
        return SLOW_LANE_S
    seeing = limiter.cue.seeing and not limiter.cue_missed
    return KEYFRAMES_SEEING_S if seeing else KEYFRAMES_BLIND_S
