"""The decider on evidence: tracks, good and poor looks, the open-set rule, the budget."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tests.support.decide import GOOD, SMALL, TURNED, alice, at, rule, stranger
from watcher.constants import EMBEDDING_SIZE
from watcher.decide.evidence import Observation
from watcher.decide.tracker import Decider
from watcher.faces.openset import BOUND_FLOOR, OWN_PRIOR, Kind, OpenSetRule

BOX = (100, 200, 200, 100)


def test_one_unknown_look_does_not_confirm() -> None:
    decider = Decider(confirm_frames=2)
    first = decider.update(0.0, [(BOX, stranger())], rule())
    assert not first.confirmed and not first.stranger_in_view
    gone = decider.update(3.0, [], rule())  # the track timed out
    assert not gone.confirmed
    again = decider.update(3.2, [(BOX, stranger())], rule())
    assert not again.confirmed


def test_unknown_looks_confirm_with_the_first_time() -> None:
    decider = Decider(confirm_frames=3)
    decider.update(1.0, [(BOX, stranger())], rule())
    decider.update(1.2, [(BOX, stranger())], rule())
    third = decider.update(1.4, [(BOX, stranger())], rule())
    assert len(third.confirmed) == 1 and third.stranger_in_view
    assert third.confirmed[0].first_unknown_t == 1.0
    assert "unknown" in (third.confirmed[0].why or "")
    later = decider.update(1.6, [(BOX, stranger())], rule())
    assert later.stranger_in_view and not later.confirmed


def test_a_face_taken_for_alice_turns_out_a_stranger_when_good_looks_disagree() -> None:
    decider = Decider(confirm_frames=2, evidence_looks=3)
    first = decider.update(0.0, [(BOX, at(0.45))], rule())  # one marginal look: alice?
    assert first.sightings[0].name == "alice" and not decider.tracks[0].settled
    confirmed = []
    for i in range(1, 5):
        confirmed += decider.update(i * 0.2, [(BOX, at(0.7))], rule()).confirmed
    assert len(confirmed) == 1 and decider.tracks[0].name is None


def test_a_stranger_at_first_becomes_known_when_the_good_looks_say_so() -> None:
    decider = Decider(confirm_frames=2, evidence_looks=3)
    decider.update(0.0, [(BOX, stranger())], rule())
    assert decider.update(0.2, [(BOX, stranger())], rule()).confirmed
    for i in range(2, 6):
        decision = decider.update(i * 0.2, [(BOX, alice())], rule())
    assert decision.sightings[0].name == "alice" and not decision.stranger_in_view


def test_known_face_beside_a_stranger_does_not_hide_him() -> None:
    decider = Decider(confirm_frames=2)
    other = (100, 700, 200, 600)
    decider.update(0.0, [(BOX, alice()), (other, stranger())], rule())
    decision = decider.update(0.2, [(BOX, alice()), (other, stranger())], rule())
    assert [tr.box for tr in decision.confirmed] == [other]


def test_a_walking_face_stays_one_track() -> None:
    decider = Decider(confirm_frames=5)
    for i in range(5):
        shift = i * 90  # almost a face width per analysis
        box = (100, 200 + shift, 200, 100 + shift)
        decision = decider.update(i * 0.2, [(box, stranger())], rule())
    assert len(decision.confirmed) == 1 and len(decider.tracks) == 1


def test_poor_looks_call_a_stranger_only_far_from_everyone_and_on_one_more_look() -> None:
    near = Decider(confirm_frames=2)  # 0.58: beyond alice's bound, within the tolerance
    for i in range(6):
        assert not near.update(i * 0.2, [(BOX, at(0.58, SMALL))], rule()).confirmed
    far = Decider(confirm_frames=2)
    assert not far.update(0.0, [(BOX, stranger(SMALL))], rule()).confirmed
    assert not far.update(0.2, [(BOX, stranger(SMALL))], rule()).confirmed
    assert far.update(0.4, [(BOX, stranger(SMALL))], rule()).confirmed
    good = Decider(confirm_frames=2)  # the same 0.58 on good looks is a stranger...
    confirmed = [bool(good.update(i * 0.2, [(BOX, at(0.58))], rule()).confirmed) for i in range(4)]
    assert confirmed == [False, False, False, True]  # ...only just beyond: on 4 looks, not 2


def test_a_turned_face_is_no_evidence() -> None:
    decider = Decider(confirm_frames=2)
    for i in range(5):
        decision = decider.update(i * 0.2, [(BOX, stranger(TURNED))], rule())
        assert not decision.confirmed
    assert decision.sightings[0].note == "turned away"


def test_a_face_cut_by_the_edge_waits_and_a_cropping_camera_is_judged_after_1_s() -> None:
    frame = (1280, 720)
    decider = Decider(confirm_frames=2)
    entering = (100, 1280, 260, 1160)  # its right part is still outside the frame
    (track,) = decider.assign(0.0, [entering], frame)
    assert not decider.needs_embedding(track, 0.0)
    decision = decider.judge(0.0, [track], [None], rule())
    assert decision.sightings == [] and not decision.confirmed  # no verdict yet
    inside = (100, 1200, 260, 1040)
    (track,) = decider.assign(0.2, [inside], frame)
    assert decider.needs_embedding(track, 0.2)  # whole now
    decider.judge(0.2, [track], [stranger()], rule())
    leaving = (100, 1280, 260, 1150)
    for i in range(3):  # the carried-over verdict never counts as a second look
        (track,) = decider.assign(0.4 + 0.2 * i, [leaving], frame)
        assert not decider.needs_embedding(track, 0.4 + 0.2 * i)
        assert not decider.judge(0.4 + 0.2 * i, [track], [None], rule()).confirmed
    (track,) = decider.assign(1.5, [leaving], frame)  # cut for 1 s: a cropping camera
    assert decider.needs_embedding(track, 1.5)
    cut_look = at(0.8, replace(GOOD, cut=True))
    assert decider.judge(1.5, [track], [cut_look], rule()).confirmed


def test_the_budget_of_an_undecided_face_and_the_refresh_of_a_settled_one() -> None:
    decider = Decider(confirm_frames=2, refresh_s=5.0, embeddings_per_s=2.0)
    (track,) = decider.assign(0.0, [BOX])
    assert decider.needs_embedding(track, 0.0)
    decider.judge(0.0, [track], [alice()], rule())
    (track,) = decider.assign(0.2, [BOX])
    assert not decider.needs_embedding(track, 0.2)  # 2 a second: not yet
    decider.judge(0.2, [track], [None], rule())
    (track,) = decider.assign(0.5, [BOX])
    assert decider.needs_embedding(track, 0.5)
    decision = decider.judge(0.5, [track], [alice()], rule())
    assert decision.sightings[0].name == "alice" and track.settled
    (track,) = decider.assign(1.0, [BOX])
    assert not decider.needs_embedding(track, 1.0)  # settled: the verdict is carried over
    assert decider.judge(1.0, [track], [None], rule()).sightings[0].name == "alice"
    assert decider.needs_embedding(track, 5.6)
    (track,) = decider.assign(1.2, [(80, 230, 230, 80)])  # came closer: a better look
    assert decider.needs_embedding(track, 1.2)


def _vector(*coords: float) -> np.ndarray:
    v = np.zeros(EMBEDDING_SIZE)
    v[: len(coords)] = coords
    return v


def test_bounds_come_from_the_gallery_and_the_tolerance_caps_them() -> None:
    lone = OpenSetRule(["alice"], np.vstack([_vector()]), 0.6)
    assert lone.bounds["alice"] == 0.6  # nobody to be taken for: the tolerance
    apart = OpenSetRule(["ann", "ben"], np.vstack([_vector(), _vector(0.7)]), 0.6)
    assert abs(apart.bounds["ann"] - (OWN_PRIOR + 0.7) / 2) < 1e-9
    # Two brothers 0.45 apart: each bound is halfway from one's own look to the other.
    brothers = OpenSetRule(["ann", "ben"], np.vstack([_vector(), _vector(0.45)]), 0.6)
    assert abs(brothers.bounds["ann"] - max(BOUND_FLOOR, (OWN_PRIOR + 0.45) / 2)) < 1e-9
    assert OpenSetRule(["alice"], np.vstack([_vector()]), 0.42).bounds["alice"] == 0.42
    fixed = OpenSetRule(
        ["ann", "ben"], np.vstack([_vector(), _vector(0.45)]), 0.6, per_person=False
    )
    assert fixed.bounds == {"ann": 0.6, "ben": 0.6}


def test_a_face_between_two_relatives_is_neither_of_them() -> None:
    family = OpenSetRule(["ann", "ben"], np.vstack([_vector(), _vector(0.7)]), 0.6)
    between = family.judge(_vector(0.33, 0.1))  # 0.345 from ann, 0.385 from ben
    assert between.kind is Kind.UNCLEAR and between.name is None
    clearly = family.judge(_vector(0.05, 0.2))
    assert clearly.kind is Kind.KNOWN and clearly.name == "ann"
    assert family.judge(_vector(0.0, 0.9)).kind is Kind.UNKNOWN


def test_an_empty_gallery_makes_every_good_look_unknown() -> None:
    empty = OpenSetRule([], np.empty((0, EMBEDDING_SIZE)), 0.6)
    decider = Decider(confirm_frames=2)
    obs = Observation(_vector(0.1), GOOD)
    decider.update(0.0, [(BOX, obs)], empty)
    assert decider.update(0.2, [(BOX, obs)], empty).confirmed


def test_a_face_that_stays_unclear_is_looked_at_once_a_second_after_a_full_window() -> None:
    family = OpenSetRule(["ann", "ben"], np.vstack([_vector(), _vector(0.7)]), 0.6)
    between = Observation(_vector(0.33, 0.1), GOOD)  # 0.345 from ann, 0.385 from ben
    decider = Decider(confirm_frames=2, evidence_looks=3)
    embedded = []
    for i in range(15):
        t = i * 0.2
        (track,) = decider.assign(t, [BOX])
        fresh = between if decider.needs_embedding(track, t) else None
        embedded.append(fresh is not None)
        decider.judge(t, [track], [fresh], family)
        assert not track.settled and track.name is None  # never decided either way
    assert embedded[:3] == [True, True, True]  # the window fills at the full budget
    assert sum(embedded[3:]) <= 3  # then once a second: 2.4 s, at most 3 more looks


def test_a_long_undecided_visit_keeps_a_bounded_number_of_sightings() -> None:
    from watcher.decide.tracker import MAX_PENDING

    family = OpenSetRule(["ann", "ben"], np.vstack([_vector(), _vector(0.7)]), 0.6)
    between = Observation(_vector(0.33, 0.1), GOOD)  # unclear for as long as it stays
    decider = Decider(confirm_frames=2, evidence_looks=3)
    for i in range(3 * MAX_PENDING):
        t = i * 0.2
        (track,) = decider.assign(t, [BOX])
        fresh = between if decider.needs_embedding(track, t) else None
        decider.judge(t, [track], [fresh], family)
    assert len(track.pending) == MAX_PENDING
    assert track.first_unknown_t == (2 * MAX_PENDING) * 0.2  # the newest are kept
