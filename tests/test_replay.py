"""The whole pipeline over real footage with the real dlib models, through `watcher replay`."""

from __future__ import annotations

import json
from pathlib import Path

import cv2

from tests.support.cli import replay, watcher, write_config
from tests.support.media import FACES, VIDEO, clip_frames, looped_video, play_length_s

PRE_CAPTURE_S = 3.0
PLAYS = 6


def test_known_performer_passes_and_unknown_audience_face_is_recorded(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, known={"lin_manuel_miranda": [FACES / "lin_manuel_miranda_1.png"]}
    )
    doc = replay(config, VIDEO / "short_hamilton_clip.mp4")
    assert doc["frames"] == 275
    events = doc["events"]
    # He is on stage 0-7 s and known: nothing may start then.
    assert all(e["start_s"] >= 6.9 for e in events), events
    assert len(events) == 1, events
    event = events[0]
    assert 6.9 <= event["start_s"] <= 8.3
    unknown = [f for f in event["faces"] if f["name"] is None]
    assert unknown and all(f["distance"] > 0.6 for f in unknown)
    frames, _ = clip_frames(event["clip"])
    assert frames > 0


def test_after_every_cut_the_new_face_is_judged_afresh(tmp_path: Path) -> None:
    # Played six times: cuts move faces around, and no track may carry the known
    # performer's name onto the audience member who appears where he stood.
    config = write_config(
        tmp_path, known={"lin_manuel_miranda": [FACES / "lin_manuel_miranda_1.png"]}
    )
    source = VIDEO / "short_hamilton_clip.mp4"
    period = play_length_s(source)
    doc = replay(config, looped_video(source, PLAYS, tmp_path / "hamilton_x6.mp4"))
    starts = sorted(e["start_s"] for e in doc["events"])
    assert len(starts) == PLAYS, doc["events"]
    for play, start in enumerate(starts):
        assert 6.9 <= start - play * period <= 8.3, (play, starts)


def test_empty_gallery_records_the_performer(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    doc = replay(config, VIDEO / "short_hamilton_clip.mp4")
    events = doc["events"]
    assert events, "an unknown face in view must be recorded"
    first = events[0]
    # His face is 43-60 px until 0.7 s (below min_face_px: a detection there is
    # luck), then in profile until 2.7 s; frontal and big enough from then on.
    assert first["start_s"] <= 3.2
    assert max(e["end_s"] for e in events) >= 7.0
    assert all(f["distance"] is None for e in events for f in e["faces"])


def test_face_arriving_gives_one_event_with_preroll_clip_snapshot_and_rows(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    doc = replay(config, VIDEO / "noface_face.mp4")
    events = doc["events"]
    assert len(events) == 1, events
    event = events[0]
    assert 4.0 <= event["start_s"] <= 5.0  # the face arrives at about 4.0 s
    # The clip starts pre_capture_s before, at the keyframe at or before (keyframes 1 s apart).
    wanted = event["start_s"] - PRE_CAPTURE_S
    assert wanted - 1.0 <= event["clip_start_s"] <= wanted + 1e-3
    frames, duration = clip_frames(event["clip"])
    expected = event["end_s"] - event["clip_start_s"]
    assert abs(duration - expected) < 0.2
    assert abs(frames - expected * 25) <= 3
    snapshot = cv2.imread(event["snapshot"])
    assert snapshot is not None and snapshot.shape[:2] == (540, 960)
    face = cv2.imread(event["snapshot"].replace(".jpg", "-face.jpg"))
    assert face is not None and 100 < face.shape[0] < 540
    clip = Path(event["clip"])
    assert clip.parent.parent.name == "cam" and clip.name.endswith(f"-{event['id']}.mp4")

    listed = watcher("events", "list", "--json", "-c", str(config))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [event["id"]]
    row = rows[0]
    assert row["clip"] == event["clip"] and row["snapshot"] == event["snapshot"]
    assert row["status"] == "closed" and row["faces"] == 1
    assert row["started_at"].endswith("+00:00") and row["ended_at"].endswith("+00:00")


def test_no_face_no_event(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    doc = replay(config, VIDEO / "no_face.mp4")
    assert doc["events"] == []
    # 98 frames in the file; the first few precede its edit list and are not shown.
    # Limited decoding (the default): its one keyframe gives no picture, so every frame
    # is decoded until one comes, and analysed; then its keyframes only (it has no other).
    assert 90 <= doc["frames"] <= 98 and doc["analysed_frames"] >= 1
    assert 1 <= doc["decoded_frames"] <= 20, doc["decoding"]
    full = replay(
        write_config(tmp_path / "full", extra="    decoding: full\n"), VIDEO / "no_face.mp4"
    )
    assert full["events"] == [] and full["analysed_frames"] > 10
    assert not list((tmp_path / "recordings").rglob("*.mp4"))


def test_max_clip_length_splits_a_long_appearance(tmp_path: Path) -> None:
    config = write_config(tmp_path, record="  max_clip_s: 10\n")
    # A face in every frame for 6 x 2.4 s; keyframes every 2.4 s.
    video = looped_video(VIDEO / "single_face.mp4", 6, tmp_path / "long.mp4")
    doc = replay(config, video)
    events = doc["events"]
    assert len(events) == 2, events
    first, second = events
    # Cut at the first keyframe after max_clip_s, and the next event goes on from there.
    assert abs(second["start_s"] - first["end_s"]) < 0.1
    assert second["clip_start_s"] == second["start_s"]
    for event in events:
        _, duration = clip_frames(event["clip"])
        assert duration <= 10.0 + 2.4
    assert second["end_s"] > 14.0
