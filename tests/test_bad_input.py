"""Bad input gets one clear line naming the file and the reason, and loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from tests.support.cli import watcher, write_config
from tests.support.media import FACES, STILLS, VIDEO


def test_gallery_problems_are_named_and_the_rest_is_used(tmp_path: Path) -> None:
    config = write_config(tmp_path, known={"obama": [FACES / "obama_1.jpg"]})
    gallery = tmp_path / "known_faces"
    (gallery / "empty.jpg").write_bytes(b"")
    (gallery / "notes.png").write_text("not a picture")
    (gallery / "crowd").mkdir()
    (gallery / "crowd" / "two.jpg").write_bytes((STILLS / "two_people.jpg").read_bytes())
    noise = np.random.default_rng(1).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    cv2.imwrite(str(gallery / "nobody.jpg"), noise)

    done = watcher("check-config", "-c", str(config))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "known people: 1 (1 images, 4 rejected)" in out
    assert "obama: 1 image" in out
    assert f"{gallery / 'empty.jpg'}: empty file" in out
    assert f"{gallery / 'notes.png'}: not a readable image" in out
    assert f"{gallery / 'crowd' / 'two.jpg'}: 2 faces found" in out
    assert f"{gallery / 'nobody.jpg'}: no face found" in out
    # Each skipped file is also one log line, without a traceback.
    assert done.stderr.count("skipped:") == 4 and "Traceback" not in done.stderr

    doc = json.loads(
        watcher("replay", str(STILLS.parent / "video/no_face.mp4"), "-c", str(config)).stdout
    )
    assert doc["events"] == []


def test_a_video_that_will_not_open(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    done = watcher("replay", str(broken), "-c", str(config))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"watcher: cannot open {broken}"), done.stderr
    assert "Traceback" not in done.stderr

    missing = watcher("replay", str(tmp_path / "nope.mp4"), "-c", str(config))
    assert missing.returncode == 1 and "no such video file" in missing.stderr


def test_unwritable_recordings_keeps_the_event(tmp_path: Path) -> None:
    # recordings_dir is a file: no folder can be made in it (root ignores permissions).
    blocker = tmp_path / "blocked"
    blocker.write_text("a file, not a folder")
    config = write_config(
        tmp_path,
        extra="",
    )
    text = config.read_text().replace("recordings_dir: recordings", "recordings_dir: blocked")
    text = text.replace("sqlite:///recordings/watcher.db", "sqlite:///db/watcher.db")
    config.write_text(text)
    done = watcher("replay", str(VIDEO / "noface_face.mp4"), "-c", str(config))
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["events"]
    assert len(events) == 1
    assert events[0]["clip"] is None and events[0]["status"] == "no_clip"
    assert "cannot write clip" in done.stderr and "Traceback" not in done.stderr
    rows = json.loads(watcher("events", "list", "--json", "-c", str(config)).stdout)
    assert [r["id"] for r in rows] == [events[0]["id"]]
    assert rows[0]["status"] == "no_clip" and rows[0]["ended_at"] is not None


def test_broken_config_exits_2_with_the_key_path(tmp_path: Path) -> None:
    config = write_config(tmp_path, faces="  tolerence: 0.5\n")
    for args in (("run",), ("replay", str(VIDEO / "no_face.mp4")), ("events", "list")):
        done = watcher(*args, "-c", str(config), timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert "faces.tolerence" in done.stderr and ":6:" in done.stderr  # line 6 of the file
        assert "Traceback" not in done.stderr
