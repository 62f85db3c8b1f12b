"""Units of the pipeline, each with its real neighbours: pre-roll, decider, schedule, clock."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import numpy as np

from tests.support.decide import alice, rule
from watcher.buffer.preroll import PrerollBuffer
from watcher.decide.tracker import Decider
from watcher.motion.following import expected_box
from watcher.motion.gate import MotionGate, MotionRegion
from watcher.motion.planner import ScanPlanner
from watcher.motion.regions import search_regions
from watcher.pipeline.clock import MediaClock
from watcher.pipeline.schedule import AnalysisSchedule
from watcher.source.base import Packet

BOX = (100, 200, 200, 100)


def packet(t: float, keyframe: bool) -> Packet:
    raw = av.Packet(b"\x00" * 10)
    raw.time_base = Fraction(1, 1000)
    raw.pts = raw.dts = round(t * 1000)
    return Packet(raw, t, keyframe)


def fill(buffer: PrerollBuffer, seconds: float, fps: int = 10, gop_s: float = 1.0) -> None:
    for i in range(int(seconds * fps)):
        t = i / fps
        buffer.push(packet(t, keyframe=(i % int(gop_s * fps)) == 0))


def test_preroll_keeps_keep_s_from_a_keyframe_and_no_more_than_a_gop_extra() -> None:
    buffer = PrerollBuffer(keep_s=3.0)
    fill(buffer, 20.0)
    held = buffer.since(-1)
    assert held[0].keyframe
    newest = held[-1].t
    assert newest - held[0].t >= 3.0
    assert newest - held[0].t < 3.0 + 1.0 + 1e-9


def test_preroll_since_starts_at_the_keyframe_at_or_before() -> None:
    buffer = PrerollBuffer(keep_s=5.0)
    fill(buffer, 10.0)
    start = buffer.since(7.5)
    assert start[0].t == 7.0 and start[0].keyframe
    assert buffer.since(7.0)[0].t == 7.0


def span_s(buffer: PrerollBuffer) -> float:
    """Seconds of media the buffer holds, first to last packet."""
    held = buffer.since(float("-inf"))
    return held[-1].t - held[0].t if held else 0.0


def test_preroll_is_bounded_even_without_keyframes() -> None:
    buffer = PrerollBuffer(keep_s=2.0, max_s=5.0)
    fill(buffer, 30.0, gop_s=30.0)  # one keyframe at 0 s and never again
    assert span_s(buffer) <= 5.0 and len(buffer) == 0
    fill_more = PrerollBuffer(keep_s=2.0, max_s=5.0)
    fill(fill_more, 30.0, gop_s=6.0)
    assert span_s(fill_more) <= 5.0 + 6.0


def test_schedule_keeps_the_rate_of_a_29_97_fps_source() -> None:
    schedule = AnalysisSchedule(5.0)
    times = [i / 29.97 for i in range(300)]  # 10 s
    analysed = [t for t in times if schedule.due(t)]
    assert 49 <= len(analysed) <= 51


def scene(seed: int, brightness: float = 0.0) -> np.ndarray:
    """A 720p grey scene with sensor noise; the same background for every seed."""
    rng = np.random.default_rng(seed)
    base = np.tile(np.linspace(40, 200, 1280, dtype=np.float32), (720, 1))
    noisy = base + rng.normal(0, 3.0, base.shape) + brightness
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_motion_gate_ignores_noise_and_light_drift_but_sees_a_moving_block() -> None:
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    (first,) = gate.regions(scene(0))  # a new scene is all motion
    assert first.box == (0, 1280, 720, 0) and not first.habitual
    for i in range(1, 30):
        assert gate.regions(scene(i, brightness=i * 0.8)) == [], f"frame {i}"
    moved = scene(99, brightness=24)
    moved[300:500, 600:760] = 250  # something 200 px tall enters
    (region,) = gate.regions(moved)
    assert not region.habitual
    top, right, bottom, left = region.box
    assert top <= 300 and bottom >= 500 and left <= 600 and right >= 760
    assert bottom - top < 320 and right - left < 320


_STANDING = (slice(200, 600), slice(560, 720))  # where someone stands still, 1280x720
_BODY = [(100, 800, 720, 480)]  # their face is tracked: their motion teaches no habit


def _someone_stood_and_left(gate: MotionGate) -> None:
    """An empty scene, someone standing still five seconds, then gone (frames 0-37)."""
    for i in range(10):  # an empty scene, two seconds
        gate.regions(scene(i))
    standing = scene(10)
    standing[_STANDING] = 20
    arrival = gate.regions(standing)
    assert arrival and not any(r.routine for r in arrival)
    for i in range(11, 37):  # five seconds: they become part of the background
        frame = scene(i)
        frame[_STANDING] = 20
        regions = gate.regions(frame, _BODY)
    assert regions == []
    leaving = gate.regions(scene(37), _BODY)  # the moment they go, something moved: searched
    assert leaving and not any(r.left_behind for r in leaving)


def test_the_wall_where_someone_stood_still_is_left_behind_when_they_go() -> None:
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    _someone_stood_and_left(gate)
    ghosts = [gate.regions(scene(i), _BODY) for i in range(38, 41)]
    # Then the wall, still, and as it long looked: nobody new is there.
    assert all(regions and all(r.left_behind and r.routine for r in regions) for regions in ghosts)
    # Someone else stepping into that very place is new: the long look never had them.
    # Someone else stepping into that very place is new (they moved), and still so when
    # they stand still a moment (the long look never had them).
    for i in (41, 42):
        frame = scene(i)
        frame[_STANDING] = 230
        (newcomer,) = gate.regions(frame)
        assert not newcomer.left_behind and not newcomer.routine, i


def test_the_scene_is_at_rest_only_once_whoever_stood_there_has_gone() -> None:
    """At rest: the picture shows the scene's long look again (limited decoding drops
    its hold then). Someone standing still is not that, even once they are no motion."""
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    for i in range(10):
        gate.regions(scene(i))
    assert gate.at_rest, "an empty scene"
    standing = scene(10)
    standing[_STANDING] = 20
    gate.regions(standing)
    assert not gate.at_rest
    for i in range(11, 37):
        frame = scene(i)
        frame[_STANDING] = 20
        motion = gate.regions(frame, _BODY)
        assert not gate.at_rest, i
    assert motion == [], "they became part of the background: no motion, still not at rest"
    gate.regions(scene(37), _BODY)  # gone; the wall differs from the background a while
    assert gate.at_rest
    # A light switched on (the whole picture brighter) is drift, not someone there.
    gate.regions(scene(38, brightness=30))
    assert gate.at_rest
    # Leaves that always move do not keep the scene from rest; someone new does.
    rng = np.random.default_rng(5)
    for i in range(39, 110):
        frame = scene(i)
        _flicker(frame, rng, (100, 1100, 300, 900))
        gate.regions(frame)
    assert gate.at_rest
    frame = scene(110)
    _flicker(frame, rng, (100, 1100, 300, 900))
    frame[400:600, 200:360] = 250
    gate.regions(frame)
    assert not gate.at_rest


def test_whoever_is_in_the_first_picture_keeps_the_scene_from_rest() -> None:
    """The long look starts as the first picture (a reconnection while someone waits at
    the door): until it has learnt each place itself, it is not taken for the empty scene."""
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    for i in range(40):  # they stand there from the first frame, their face followed
        frame = scene(i)
        frame[_STANDING] = 20
        gate.regions(frame, _BODY)
        assert not gate.at_rest, i
    for i in range(40, 50):  # gone, their track kept two seconds more
        gate.regions(scene(i), _BODY)
        assert not gate.at_rest, i
    empty = MotionGate(height=120, threshold=18, min_area=0.002)
    for i in range(3):
        empty.regions(scene(i))
    assert empty.at_rest, "an empty first picture is learnt at once"


def test_a_followed_person_never_enters_the_scenes_long_look() -> None:
    """However long they stand still, the wall behind them is the long look when they go."""
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    for i in range(10):
        gate.regions(scene(i))
    for i in range(10, 160):  # thirty seconds standing still, their face followed
        frame = scene(i)
        frame[_STANDING] = 20
        gate.regions(frame, _BODY)
        assert not gate.at_rest, i
    gate.regions(scene(160), _BODY)  # gone
    ghosts = gate.regions(scene(161))
    assert ghosts and all(r.left_behind for r in ghosts), ghosts
    assert gate.at_rest


def test_someone_new_beside_the_place_a_person_left_is_not_left_behind() -> None:
    """Their motion merges with the wall's region, of which they are a small share."""
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    _someone_stood_and_left(gate)
    for i in (38, 39, 40):  # arriving, then standing still a moment
        frame = scene(i)
        frame[220:320, 720:800] = 230  # a head right beside where the other stood
        beside = [r for r in gate.regions(frame, _BODY) if r.box[3] <= 760 and r.box[1] >= 760]
        assert beside and not any(r.left_behind or r.routine for r in beside), (i, beside)


def test_planner_searches_left_behind_motion_in_the_slow_lane_only() -> None:
    planner = ScanPlanner(min_face_px=60)
    wall = [MotionRegion((100, 700, 500, 500), habitual=False, left_behind=True)]
    assert planner.plan(0.0, wall, [], 1280, 720)  # the slow lane is due at first
    assert [planner.plan(0.2 * i, wall, [], 1280, 720) for i in range(1, 10)] == [[]] * 9
    assert planner.plan(2.0, wall, [], 1280, 720)  # two seconds on, searched again


def test_search_regions_cover_motion_and_tracked_faces_and_merge() -> None:
    face = (100, 300, 180, 220)
    regions = search_regions([], [(face, face)], 1280, 720, 60)
    assert len(regions) == 1
    (r, smallest) = regions[0]
    assert r[0] <= face[0] and r[1] >= face[1] and r[2] >= face[2] and r[3] <= face[3]
    assert smallest == 60  # an 80 px face is looked for down to 65 % of its size, not below 60
    still = (100, 500, 300, 300)
    big = search_regions([], [(still, still)], 1280, 720, 60)
    assert big[0][1] == 130  # a 200 px face: the detector can work on a smaller picture
    # A face moving right is searched where it is going, not as far behind it.
    ahead = (100, 800, 300, 600)
    ((moving, _),) = search_regions([], [(still, ahead)], 1280, 720, 60)
    assert moving[1] >= 800  # as far as it is going...
    assert moving[3] >= 300 - 100  # ...and half a face behind where it was, not a whole one
    overlapping = search_regions([(100, 400, 300, 200), (250, 500, 400, 350)], [], 1280, 720, 60)
    assert len(overlapping) == 1 and overlapping[0][1] == 60
    assert search_regions([], [], 1280, 720, 60) == []
    everywhere = search_regions([(0, 1280, 700, 0)], [], 1280, 720, 60)
    assert everywhere == [((0, 1280, 720, 0), 60)]


def test_a_region_inside_one_searched_for_smaller_faces_is_not_searched_again() -> None:
    still = (100, 500, 300, 300)  # a 200 px face: looked for again down to 130 px
    inside = search_regions([(0, 900, 720, 0)], [(still, still)], 1280, 720, 60)
    assert inside == [((0, 960, 720, 0), 60)], "the motion's search finds it anyway"
    beside = search_regions([(0, 200, 200, 0)], [(still, still)], 1280, 720, 60)
    assert len(beside) == 2 and sorted(size for _, size in beside) == [60, 130]
    # Searched for bigger faces only, the larger region does not cover the smaller one's.
    around = search_regions([], [(still, still)], 1280, 720, 60, [((0, 900, 720, 0), 160)])
    assert sorted(size for _, size in around) == [130, 160]


def test_a_place_that_always_moves_becomes_habitual() -> None:
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    rng = np.random.default_rng(3)
    gate.regions(scene(0))
    habitual = []
    for i in range(1, 80):
        frame = scene(i)
        # "Leaves": a patch whose pixels flicker at random every frame.
        frame[100:300, 900:1100] = rng.integers(0, 255, (200, 200), dtype=np.uint8)
        habitual.append([r.habitual for r in gate.regions(frame)])
    assert habitual[0] == [False], "new motion is not habitual"
    assert habitual[-1] and all(habitual[-1]), habitual[-10:]
    # Something new elsewhere is not habitual.
    frame = scene(99)
    frame[100:300, 900:1100] = rng.integers(0, 255, (200, 200), dtype=np.uint8)
    frame[400:600, 200:360] = 250
    regions = gate.regions(frame)
    new = [r for r in regions if r.box[0] <= 400 <= r.box[2] and r.box[3] <= 200 <= r.box[1]]
    assert len(new) == 1 and not new[0].habitual
    assert all(r.habitual for r in regions if r not in new)


def _flicker(frame: np.ndarray, rng: np.random.Generator, box: tuple[int, int, int, int]) -> None:
    top, right, bottom, left = box
    frame[top:bottom, left:right] = rng.integers(0, 255, (bottom - top, right - left))


def test_a_tracked_persons_motion_and_scene_changes_teach_no_habit() -> None:
    rng = np.random.default_rng(5)
    person = (100, 1100, 300, 900)
    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    gate.regions(scene(0))
    for i in range(1, 80):  # someone tracked, fidgeting in one place for 16 s
        frame = scene(i)
        _flicker(frame, rng, person)
        regions = gate.regions(frame, people=[(50, 1150, 400, 850)])
        assert not gate.scene_changed  # someone moving is not another picture
    assert regions and not any(r.habitual for r in regions)

    gate = MotionGate(height=120, threshold=18, min_area=0.002)
    gate.regions(scene(0))
    for i in range(1, 80):  # the whole picture changes every other frame (cuts)
        frame = scene(i)
        if i % 2:
            frame[:660] = 255 - frame[:660]
        gate.regions(frame)
        if i == 1:
            assert gate.scene_changed
    frame = scene(99)
    _flicker(frame, rng, person)  # now someone moves there: new, not habitual
    regions = gate.regions(frame)
    assert regions and not any(r.habitual for r in regions)


def test_planner_searches_arrivals_at_once_and_explained_motion_slowly() -> None:
    decider = Decider(confirm_frames=1)
    planner = ScanPlanner(min_face_px=60)
    arrival = [MotionRegion((100, 700, 500, 500), habitual=False)]
    assert planner.plan(0.0, arrival, [], 1280, 720)  # nobody tracked: search now
    face = (100, 650, 200, 550)
    decider.update(0.0, [(face, alice())], rule())
    body = [MotionRegion((150, 700, 600, 500), habitual=False)]  # under alice's face
    first = planner.plan(0.2, body, decider.tracks, 1280, 720)
    assert any(smallest == 60 for _, smallest in first)  # the slow lane is due once
    decider.assign(0.2, [face])  # she is found where she was
    second = planner.plan(0.4, body, decider.tracks, 1280, 720)
    assert all(smallest > 60 for _, smallest in second)  # then only her face, at its size
    assert planner.plan(0.5, body, decider.tracks, 1280, 720) == []  # settled: not every frame
    assert any(smallest == 60 for _, smallest in planner.plan(2.3, body, decider.tracks, 1280, 720))


def test_the_slow_lane_near_a_close_face_looks_for_faces_half_its_size() -> None:
    decider = Decider(confirm_frames=1)
    planner = ScanPlanner(min_face_px=60)
    face = (100, 700, 300, 500)  # 200 px: someone close to the camera
    decider.update(0.0, [(face, alice())], rule())
    body = [MotionRegion((300, 800, 700, 400), habitual=False)]
    plan = planner.plan(0.2, body, decider.tracks, 1280, 720)
    assert 100 in {smallest for _, smallest in plan}
    assert 60 not in {smallest for _, smallest in plan}
    leaves = [MotionRegion((0, 1280, 100, 1000), habitual=True)]  # away from anyone
    plan = planner.plan(2.4, leaves, decider.tracks, 1280, 720)
    assert 60 in {smallest for _, smallest in plan}


def test_motion_that_keeps_showing_no_face_is_searched_less_often() -> None:
    decider = Decider(confirm_frames=2)
    planner = ScanPlanner(min_face_px=60)
    back = [MotionRegion((100, 700, 600, 500), habitual=False)]  # someone, back turned
    searched = [bool(planner.plan(0.2 * i, back, decider.tracks, 1280, 720)) for i in range(9)]
    assert searched == [True, True, True, False, True, False, True, False, True]
    decider.assign(1.8, [(600, 1250, 700, 1150)])  # a face elsewhere: every frame again
    for t in (2.0, 2.2, 2.4):
        plan = planner.plan(t, back, decider.tracks, 1280, 720)
        assert any(smallest == 60 for _, smallest in plan), t


def test_while_the_scene_changes_no_tracked_person_explains_motion() -> None:
    decider = Decider(confirm_frames=1)
    planner = ScanPlanner(min_face_px=60)
    face = (100, 650, 200, 550)
    decider.update(0.0, [(face, alice())], rule())
    body = [MotionRegion((150, 700, 600, 500), habitual=False)]
    planner.plan(0.0, body, decider.tracks, 1280, 720)  # the slow lane: next due at 2 s
    assert planner.plan(0.2, body, decider.tracks, 1280, 720) == []  # her body, explained
    cut = planner.plan(0.3, body, decider.tracks, 1280, 720, scene_changed=True)
    assert any(smallest == 60 for _, smallest in cut)  # a cut: searched at once


def test_planner_looks_for_a_lost_unjudged_face_only_at_the_settled_pace() -> None:
    decider = Decider(confirm_frames=2)
    planner = ScanPlanner(min_face_px=60)
    face = (100, 650, 200, 550)
    (track,) = decider.assign(0.0, [face])  # seen, not yet judged: searched every frame
    assert planner.plan(0.2, [], decider.tracks, 1280, 720)
    decider.assign(0.2, [])  # ...and not found there: one miss keeps the pace
    assert planner.plan(0.4, [], decider.tracks, 1280, 720)
    decider.assign(0.4, [])  # two: lost, looked for at the settled pace
    assert planner.plan(0.6, [], decider.tracks, 1280, 720)
    decider.assign(0.6, [])
    assert planner.plan(0.8, [], decider.tracks, 1280, 720) == []  # not every frame
    assert planner.plan(1.0, [], decider.tracks, 1280, 720)
    decider.assign(1.0, [face])  # found again: every frame
    assert planner.plan(1.2, [], decider.tracks, 1280, 720)


def test_a_face_speeding_up_is_claimed_where_it_was_expected() -> None:
    decider = Decider(confirm_frames=5)
    decider.assign(0.0, [(100, 100, 200, 0)])
    decider.assign(0.2, [(100, 220, 200, 120)])  # 600 px/s
    (track,) = decider.assign(0.4, [(100, 460, 200, 360)])  # 2.4 faces from its last box
    assert len(decider.tracks) == 1 and track.id == 1


def test_a_face_coming_in_from_the_frames_edge_keeps_its_track() -> None:
    """Cut by the edge its box is narrow, but a face's size is its height: one face, one
    track (a second one was searched for in vain for two seconds)."""
    decider = Decider(confirm_frames=5)
    decider.assign(0.0, [(100, 60, 300, 0)], (1280, 720))  # 200 px tall, 60 px of it in view
    (track,) = decider.assign(0.2, [(100, 330, 300, 130)], (1280, 720))  # whole, 170 px on
    assert len(decider.tracks) == 1 and track.id == 1 and track.hits == 2
    planner = ScanPlanner(min_face_px=60)
    decider = Decider(confirm_frames=5)
    decider.assign(0.0, [(100, 60, 300, 0)], (1280, 720))
    ((region, _),) = planner.plan(0.2, [], decider.tracks, 1280, 720)
    assert region[1] >= 330, "searched for as far as a face of its height may have come"


def test_a_walking_face_is_expected_further_on() -> None:
    decider = Decider(confirm_frames=2)
    decider.assign(0.0, [(100, 300, 200, 200)])
    (track,) = decider.assign(0.2, [(100, 350, 200, 250)])  # 50 px right in 0.2 s
    assert track.velocity == (0.0, 250.0)
    assert expected_box(track, 0.4, max_shift=1.5) == (100, 400, 200, 300)
    assert expected_box(track, 2.2, max_shift=1.5) == (100, 500, 200, 400)  # capped
    (track,) = decider.assign(0.4, [(100, 400, 200, 300)])
    assert expected_box(track, 0.4, max_shift=1.5) == track.box


def test_media_clock_keeps_the_earliest_arriving_mapping() -> None:
    clock = MediaClock()
    clock.arrived(0.0)  # a burst: 1 s of packets arrives at once, all late but the last
    for t in (0.04, 0.08, 0.96, 1.0):
        clock.arrived(t)
    base = clock.wall(1.0)
    time.sleep(0.2)
    clock.arrived(1.2)  # on time now
    assert abs((clock.wall(1.2) - base).total_seconds() - 0.2) < 0.05
    time.sleep(0.1)
    clock.arrived(1.25)  # 50 ms late: the mapping does not follow it
    assert abs((clock.wall(1.2) - base).total_seconds() - 0.2) < 0.05
