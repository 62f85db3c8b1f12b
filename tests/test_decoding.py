"""Limited decoding (issue 15): keyframes only while nothing moves, the same decisions as full.

Real footage through `watcher replay` with the real dlib models: composed clips
of a still scene (encoded as a camera encodes it) with a stranger walking in
mid-GOP, and the shared media clips.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import av
import pytest

from tests.support.cli import replay, write_config
from tests.support.footage import compose
from tests.support.media import FACES, VIDEO
from watcher.motion.planner import SLOW_LANE_S
from watcher.pipeline.pacing import KEYFRAMES_BLIND_S, KEYFRAMES_SEEING_S, slow_lane_interval
from watcher.source.av_source import AVSource
from watcher.source.cue import PacketCue
from watcher.source.limited import LimitedDecoding
from watcher.source.limiter import DecodeLimiter, DecodingMode

FULL = "    decoding: full\n"
LIMITED = "    decoding: limited\n"


def _replay(tmp_path: Path, name: str, video: Path, extra: str, **known: list[Path]) -> Any:
    folder = tmp_path / name
    folder.mkdir()
    return replay(write_config(folder, extra=extra, known=known or None), video)


def test_a_still_scene_decodes_its_keyframes_only(tmp_path: Path) -> None:
    clip = compose(tmp_path / "still.mp4", 20.0)
    doc = _replay(tmp_path, "limited", clip.path, LIMITED)
    assert doc["events"] == []
    assert doc["frames"] == 500
    # Ten keyframes, and perhaps a few seconds of every frame while the motion
    # gate learns the scene: far from the 500 frames that full decoding costs.
    assert doc["decoded_frames"] <= 0.2 * doc["frames"], doc["decoding"]
    assert doc["decoding"]["mode"] == "limited"
    # The cue sees the still scene: keyframes 2 s apart are decoded one in two.
    assert doc["decoding"]["thinned_keyframes"] >= 3, doc["decoding"]
    full = _replay(tmp_path, "full", clip.path, FULL)
    assert full["decoded_frames"] >= full["frames"]
    assert full["events"] == []


@pytest.mark.parametrize("bframes", [0, 2])
def test_a_stranger_arriving_mid_gop_is_caught_up_and_recorded_as_in_full(
    tmp_path: Path, bframes: int
) -> None:
    # Keyframes at 0, 2, 4, ... s: the visitor walks in at 9.3 s, fully in view at 10.1 s.
    clip = compose(tmp_path / "visit.mp4", 14.0, enter_s=9.3, bframes=bframes)
    limited = _replay(tmp_path, "limited", clip.path, LIMITED)
    full = _replay(tmp_path, "full", clip.path, FULL)
    assert len(full["events"]) == 1, full["events"]
    assert len(limited["events"]) == 1, limited["events"]
    start_full, start_limited = full["events"][0]["start_s"], limited["events"][0]["start_s"]
    assert clip.arrival_s is not None and start_full <= clip.arrival_s + 1.0
    assert abs(start_limited - start_full) <= 0.25, (start_limited, start_full)
    decoding = limited["decoding"]
    # The packets said it first, mid-GOP: the frames since its keyframe were decoded at once.
    assert decoding["cues"] >= 1 and decoding["catch_ups"] >= 1, decoding
    assert decoding["caught_up_frames"] >= 1, decoding
    assert limited["decoded_frames"] < 0.8 * full["decoded_frames"]
    # The clip is the same either way: the packets, never decoded for it.
    assert limited["events"][0]["clip_start_s"] == full["events"][0]["clip_start_s"]


@pytest.mark.parametrize("bframes", [0, 2])
def test_once_a_visitor_has_gone_only_keyframes_are_decoded_again_at_once(
    tmp_path: Path, bframes: int
) -> None:
    # Keyframes 4 s apart (a camera's "smart" mode stretches its GOP): in at 3.3 s,
    # walking out from 8.0 s, gone at 8.8 s, in the middle of the GOP from 8 to 12 s.
    clip = compose(
        tmp_path / "visit.mp4", 20.0, enter_s=3.3, leave_s=8.0, gop_s=4.0, bframes=bframes
    )
    limited = _replay(tmp_path, "limited", clip.path, LIMITED)
    full = _replay(tmp_path, "full", clip.path, FULL)
    assert len(full["events"]) == len(limited["events"]) == 1, (full, limited)
    (a,), (b,) = limited["events"], full["events"]
    assert abs(a["start_s"] - b["start_s"]) <= 0.25, (a["start_s"], b["start_s"])
    # The event ends post_capture_s (2 s) after the stranger was last in view, as in
    # full decoding (give or take an analysis): not at the next keyframe's analysis
    # (12 s, or 16 s when that one is thinned).
    assert a["end_s"] <= b["end_s"] + 0.25, (a["end_s"], b["end_s"])
    assert a["end_s"] <= a["faces"][-1]["t_s"] + 2.0 + 0.25, a
    decoding = limited["decoding"]
    # Every frame from the GOP's keyframe (the catch-up at the visitor's coming decodes
    # from there) to a second after they are gone (for the gate to see the picture at
    # rest), then the keyframes: not EVERY_FRAME_HOLD_S (4 s) more, nor the rest of the GOP.
    assert clip.gone_s is not None
    every = (clip.gone_s + 1.0) * 25
    assert limited["decoded_frames"] <= every + 20 / 4, (limited["decoded_frames"], decoding)


@pytest.mark.parametrize(
    ("video", "known"),
    [
        ("short_hamilton_clip.mp4", {"lin_manuel_miranda": [FACES / "lin_manuel_miranda_1.png"]}),
        ("noface_face.mp4", {}),
        ("face_noface.mov", {}),  # H.265
        ("single_face.mp4", {}),
        ("no_face.mp4", {}),
    ],
)
def test_the_shared_clips_give_the_same_events_limited_or_full(
    tmp_path: Path, video: str, known: dict[str, list[Path]]
) -> None:
    limited = _replay(tmp_path, "limited", VIDEO / video, LIMITED, **known)
    full = _replay(tmp_path, "full", VIDEO / video, FULL, **known)
    assert len(limited["events"]) == len(full["events"]), (limited["events"], full["events"])
    for a, b in zip(limited["events"], full["events"], strict=True):
        assert abs(a["start_s"] - b["start_s"]) <= 0.25, (a["start_s"], b["start_s"])
        names_a = sorted(str(f["name"]) for f in a["faces"])
        names_b = sorted(str(f["name"]) for f in b["faces"])
        assert set(names_a) == set(names_b)


def test_a_stream_without_keyframes_for_too_long_is_decoded_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The bound keeps memory flat for a camera that sends one keyframe a minute, or
    # none after the first (a picture refreshed a stripe at a time): past it, keyframes
    # cannot be relied on, and every frame of the connection is decoded.
    monkeypatch.setattr("watcher.source.limited.MAX_GOP_PACKETS", 10)
    clip = compose(tmp_path / "long.mp4", 8.0, gop_s=100.0)  # one keyframe, at 0 s
    limiter = DecodeLimiter()
    source = AVSource(str(clip.path), paced=False, limiter=limiter)
    source.open()
    frames: list[float] = []
    try:
        for chunk in source.chunks():
            frames += [f.t for f in chunk.frames]
    finally:
        source.close()
    assert limiter.mode is DecodingMode.EVERY_FRAME
    assert "no keyframe in 10 frames" in caplog.text
    # The keyframe, then (the first frames after it could not be decoded) every frame.
    assert frames[0] == 0.0 and len([t for t in frames if t >= 1.0]) == 175, frames[:20]


def test_the_cue_ignores_a_noisy_scene_and_fires_on_a_jump() -> None:
    cue = PacketCue()
    rng = [900, 1400, 700, 1800, 1100, 800, 1500, 1000]  # P/B-frames of a noisy scene
    fired = [cue.observe(rng[i % len(rng)], keyframe=i % 50 == 0) for i in range(500)]
    assert not any(fired)
    assert not cue.observe(40_000, keyframe=True)  # a keyframe says nothing of motion
    jump = [cue.observe(8000, keyframe=False) for _ in range(3)]
    assert any(jump)


def test_a_cue_that_missed_a_person_with_sparse_keyframes_means_every_frame_until_it_fires() -> (
    None
):
    # Keyframes 4 s apart; between them still-scene packets the cue learns as the level.
    limiter = DecodeLimiter()
    noise = random.Random(3)  # a variable-rate encoder's still scene
    t = 0.0
    for i in range(250):
        t = i * 0.04
        keyframe = i % 100 == 0
        if keyframe:
            limiter.keyframe_at(t)
        limiter.cued(40_000 if keyframe else noise.randint(700, 1500), keyframe, t)
    assert limiter.gop_s == 4.0 and not limiter.wants_every_frame(t + 0.04)
    # Analysis found a face at the keyframe that no packet announced: blind.
    limiter.face_at_keyframe()
    assert limiter.wants_every_frame(t + 60.0)
    # The packets jump with the next motion: the cue sees after all; back to limited
    # once the hold it asks for is over.
    assert any([limiter.cued(9000, False, t + 1.0) for _ in range(3)])
    assert limiter.wants_every_frame(t + 1.5) and not limiter.wants_every_frame(t + 60.0)


def test_analysis_releases_its_own_hold_only_and_a_cue_holds_only_when_it_wakes_decoding() -> None:
    limiter = DecodeLimiter()
    noise = random.Random(5)
    t = 0.0
    for i in range(100):  # a still scene, keyframes 2 s apart: the cue learns its level
        t = i * 0.04
        keyframe = i % 50 == 0
        if keyframe:
            limiter.keyframe_at(t)
        limiter.cued(40_000 if keyframe else noise.randint(700, 1500), keyframe, t)
    assert not limiter.wants_every_frame(t + 0.04)
    # Someone comes: the packets jump and the cue wakes decoding for CUE_HOLD_S.
    assert any([limiter.cued(9000, False, t + 0.04) for _ in range(3)])
    limiter.hold(t + 6.0)  # analysis saw them
    limiter.release(t + 0.5)  # ... and then no one (say): the cue's own hold stays
    assert limiter.wants_every_frame(t + 1.0) and not limiter.wants_every_frame(t + 3.0)
    limiter.switch(DecodingMode.EVERY_FRAME)
    # While every frame is decoded a cue asks for nothing: analysis sees for itself.
    later = t + 10.0
    assert any([limiter.cued(9000, False, later) for _ in range(3)])
    assert not limiter.wants_every_frame(later + 0.5)
    # ... but analysis, lagging the capture, releasing at a frame from before that cue
    # keeps every frame CUE_HOLD_S from it: it has not seen what moved yet.
    limiter.hold(later + 4.0)
    limiter.release(later - 0.3)
    assert limiter.wants_every_frame(later + 1.5) and not limiter.wants_every_frame(later + 2.5)
    limiter.release(later + 0.2)  # at a frame from after it: nothing held
    assert not limiter.wants_every_frame(later + 0.3)


def test_a_keyframe_without_a_picture_keeps_every_frame_decoded_until_one_comes() -> None:
    """However long the decoder takes to give a picture (a camera's gradual refresh
    after a keyframe), analysis is not left without one for the rest of the GOP."""
    decoded: list[float] = []
    first_picture_t = 3.5  # well past CUE_HOLD_S after the keyframe

    class Picture:
        pts = None

    def decode(packet: av.Packet | None) -> list[Any]:
        if packet is None:
            return []
        t = float(packet.pts or 0) / 25
        decoded.append(t)
        return [Picture()] if t >= first_picture_t else []

    limiter = DecodeLimiter()
    limited = LimitedDecoding(limiter, decode, lambda: None)
    for i in range(150):  # keyframes every 10 s: one at 0 s
        packet = av.Packet(b"\x00" * (40_000 if i == 0 else 900))
        packet.pts = i
        limited.take(packet, i == 0, i / 25, None)
    # The keyframe alone (no picture), then every packet from it to the first picture;
    # after that, with nothing asking for more, decoding stopped (mid-GOP).
    first = next(i for i in range(150) if i / 25 >= first_picture_t)
    assert [round(t * 25) for t in decoded] == [0, *range(first + 1)]


def test_a_constant_bitrate_stream_is_known_blind() -> None:
    cue = PacketCue()
    for i in range(300):
        cue.observe(4100, keyframe=i % 50 == 0)  # every frame padded to the rate
    assert cue.blind
    varied = PacketCue()
    noise = random.Random(5)
    for i in range(300):
        varied.observe(noise.randint(700, 1500), keyframe=i % 50 == 0)
    assert not varied.blind


def _feed(limiter: DecodeLimiter, size: int, keyframe: bool, t: float) -> None:
    """One packet as a limited source hands it over (source/limited.py: counted, then cued)."""
    limiter.stats.packets += 1
    limiter.cued(size, keyframe, t)


def test_the_slow_lane_waits_longest_while_the_cue_sees() -> None:
    # The tree's place is searched by the slow lane alone: every 2 s while every frame is
    # decoded, every 8 s while keyframes carry detection alone (blind cue), and every
    # 30 s while the packets would announce anyone who came (they jump 7-9x).
    assert slow_lane_interval(None) == SLOW_LANE_S  # decoding: full
    seeing = DecodeLimiter()
    noise = random.Random(4)
    for i in range(300):
        _feed(seeing, noise.randint(700, 1500), i % 50 == 0, i * 0.04)
    assert seeing.mode is DecodingMode.KEYFRAMES and not seeing.cue.blind
    assert slow_lane_interval(seeing) == KEYFRAMES_SEEING_S
    seeing.switch(DecodingMode.EVERY_FRAME)
    assert slow_lane_interval(seeing) == SLOW_LANE_S
    blind = DecodeLimiter()
    for i in range(300):
        _feed(blind, 4100, i % 50 == 0, i * 0.04)  # constant bitrate
    assert blind.cue.blind
    assert slow_lane_interval(blind) == KEYFRAMES_BLIND_S
    missed = DecodeLimiter()
    _feed(missed, 900, False, 0.0)  # a packet came: the source is limited
    assert slow_lane_interval(missed) == KEYFRAMES_BLIND_S  # no level learnt yet
    for i in range(1, 300):
        _feed(missed, noise.randint(700, 1500), i % 50 == 0, i * 0.04)
    assert slow_lane_interval(missed) == KEYFRAMES_SEEING_S
    missed.face_at_keyframe()  # a face at a keyframe no packet announced
    assert slow_lane_interval(missed) == KEYFRAMES_BLIND_S
    # A source that decodes every frame of its own (USB, MJPEG) never feeds the limiter.
    assert slow_lane_interval(DecodeLimiter()) == SLOW_LANE_S
    assert SLOW_LANE_S < KEYFRAMES_BLIND_S < KEYFRAMES_SEEING_S


def test_while_the_cue_sees_a_keyframe_is_decoded_every_four_seconds_only() -> None:
    limiter = DecodeLimiter()
    noise = random.Random(6)  # a variable-rate still scene, a keyframe every 2 s
    due: list[float] = []
    for i in range(500):  # 20 s at 25 fps
        t = i * 0.04
        keyframe = i % 50 == 0
        if keyframe:
            limiter.keyframe_at(t)
        limiter.cued(30_000 if keyframe else noise.randint(700, 1500), keyframe, t)
        if keyframe and limiter.keyframe_due(t):
            due.append(t)
            limiter.keyframe_decoded(t)
    # The level is learnt at 2.2 s (50 sums): the pictures until the first one after
    # that are all decoded; then one keyframe in two.
    assert due == [0.0, 2.0, 4.0, 8.0, 12.0, 16.0], due
    # A face at a keyframe the packets had not announced: the cue may be blind, and
    # every keyframe is decoded again until it fires.
    assert not limiter.keyframe_due(18.0)
    limiter.face_at_keyframe()
    assert limiter.keyframe_due(18.0)
    blind = DecodeLimiter()
    for i in range(300):
        t = i * 0.04
        blind.cued(4100, i % 50 == 0, t)  # constant bitrate: the cue is blind
        if i % 50 == 0:
            assert blind.keyframe_due(t)
            blind.keyframe_decoded(t)


@pytest.mark.parametrize(
    ("gop_frames", "expected"),
    [
        (25, [0.0, 1.0, 2.0, 3.0, 7.0, 11.0, 15.0, 19.0]),  # 1 s: one in four
        (75, [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0]),  # 3 s: skipping one would make 6 s
    ],
)
def test_decoded_keyframes_are_never_further_apart_than_four_seconds(
    gop_frames: int, expected: list[float]
) -> None:
    limiter = DecodeLimiter()
    noise = random.Random(8)
    due: list[float] = []
    for i in range(500):  # 20 s at 25 fps, a still variable-rate scene
        t = i * 0.04
        keyframe = i % gop_frames == 0
        if keyframe:
            limiter.keyframe_at(t)
        limiter.cued(30_000 if keyframe else noise.randint(700, 1500), keyframe, t)
        if keyframe and limiter.keyframe_due(t):
            due.append(round(t, 2))
            limiter.keyframe_decoded(t)
    assert due == expected
    assert max(b - a for a, b in zip(due, due[1:], strict=False)) <= 4.0
