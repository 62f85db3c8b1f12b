"""A full disk ends the clip cleanly, keeps the event, and recording resumes when space returns."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import watcher, write_config
from tests.support.media import VIDEO, clip_frames


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB filesystem (tmpfs), mounted for the test."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def test_enospc_ends_the_clip_and_recording_resumes_when_space_returns(
    tmp_path: Path, small_disk: Path
) -> None:
    config = write_config(tmp_path)
    text = config.read_text().replace("recordings_dir: recordings", f"recordings_dir: {small_disk}")
    config.write_text(text.replace("sqlite:///recordings/", "sqlite:///db/"))
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024 - 300 * 1024))  # leave about 300 KB

    full = watcher("replay", str(VIDEO / "noface_face.mp4"), "-c", str(config))
    assert full.returncode == 0, full.stderr
    assert "No space left on device" in full.stderr and "Traceback" not in full.stderr
    (event,) = json.loads(full.stdout)["events"]
    assert event["clip"] is not None, "what fitted is kept"
    frames, _ = clip_frames(event["clip"])  # and it plays
    assert frames > 10
    rows = json.loads(watcher("events", "list", "--json", "-c", str(config)).stdout)
    assert [r["id"] for r in rows] == [event["id"]] and rows[0]["ended_at"] is not None
    # The visit did not end with the clip: the row ends at the last sighting and says so.
    assert event["end_s"] >= max(f["t_s"] for f in event["faces"])
    assert "the clip was cut at" in (rows[0]["decision"] or "")

    filler.unlink()
    Path(event["clip"]).unlink()
    again = watcher("replay", str(VIDEO / "noface_face.mp4"), "-c", str(config))
    assert again.returncode == 0 and "No space" not in again.stderr
    (event2,) = json.loads(again.stdout)["events"]
    frames2, duration2 = clip_frames(event2["clip"])
    assert frames2 > frames and duration2 > 5.0
