"""The Pi estimate's arithmetic (bench/pi/estimate.py) on hand numbers: no media, no dlib."""

from __future__ import annotations

import pytest

from bench.pi.estimate import (
    Counts,
    OpCosts,
    cameras,
    cameras_with_visitors,
    difference,
    per_second,
    scaled,
    terms,
)

COSTS = OpCosts(
    keyframe_s=0.040, pframe_s=0.010, hog_s_per_px=2e-7, embed_s=0.3, rest_s_per_packet=1e-4
)


def test_every_term_is_count_times_cost() -> None:
    # One keyframe and one catch-up frame a second, 1 Mpx searched, one embedding a
    # second, 25 packets: 0.040 + 0.010 + 0.2 + 0.3 + 0.0025.
    t = terms(Counts(packets=25, keyframes=1, decoded=2, searched_px=1e6, embeddings=1), COSTS)
    assert t.keyframes == pytest.approx(0.040)
    assert t.pframes == pytest.approx(0.010)
    assert t.hog == pytest.approx(0.2)
    assert t.embeddings == pytest.approx(0.3)
    assert t.rest == pytest.approx(0.0025)
    assert t.total == pytest.approx(0.5525)
    assert cameras(t.total, 3.5) == pytest.approx(3.5 / 0.5525)


def test_keyframes_only_cost_no_pframes() -> None:
    t = terms(Counts(packets=25, keyframes=0.5, decoded=0.5, searched_px=0, embeddings=0), COSTS)
    assert t.pframes == 0
    assert t.total == pytest.approx(0.5 * 0.040 + 25 * 1e-4)
    # Full decoding of the same camera: 24.5 more frames a second at the P-frame cost.
    full = terms(Counts(packets=25, keyframes=0.5, decoded=25, searched_px=0, embeddings=0), COSTS)
    assert full.total - t.total == pytest.approx(24.5 * 0.010)


def test_per_second_and_ratios() -> None:
    c = per_second(Counts(3000, 60, 3000, 1.2e8, 0), 120.0)
    assert (c.packets, c.keyframes, c.decoded, c.searched_px) == (25, 0.5, 25, 1e6)
    s = scaled(COSTS, decode=2.0, faces=10.0, rest=3.0)
    assert (s.keyframe_s, s.pframe_s) == pytest.approx((0.080, 0.020))
    assert (s.hog_s_per_px, s.embed_s) == pytest.approx((2e-6, 3.0))
    assert s.rest_s_per_packet == pytest.approx(3e-4)
    with pytest.raises(ValueError):
        per_second(c, 0)
    with pytest.raises(ValueError):
        cameras(0, 3.5)


def test_difference_is_the_extra_loops() -> None:
    # A 40 s scene played 3 times minus once: 80 s of steady state.
    once = Counts(packets=1000, keyframes=20, decoded=150, searched_px=5e6, embeddings=2)
    thrice = Counts(packets=3000, keyframes=60, decoded=250, searched_px=7e6, embeddings=2)
    extra = difference(once, thrice)
    assert extra == Counts(2000, 40, 100, 2e6, 0)
    assert per_second(extra, 80.0) == Counts(25, 0.5, 1.25, 25000, 0)


def test_cameras_with_visitors_at_once() -> None:
    # 3.5 cores; idle cameras cost 0.05, one with a visitor 0.7: two visitors at once
    # leave 2.1 cores for 42 idle ones, 44 in all.
    assert cameras_with_visitors(0.05, 0.7, 3.5, 2) == pytest.approx(44.0)
    assert cameras_with_visitors(0.05, 0.7, 3.5, 0) == pytest.approx(70.0)
    assert cameras_with_visitors(0.05, 2.0, 3.5, 2) == 0.0
