"""Strangers across events: one identity per person, naming one makes them known, watch-lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import replay, watcher, write_config
from tests.support.media import VIDEO


def unknown(config: Path) -> list[dict[str, Any]]:
    """`watcher faces unknown --json`."""
    done = watcher("faces", "unknown", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_the_same_stranger_in_two_videos_is_one_identity_and_naming_him_makes_him_known(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    # The same man (per the media README) in two different clips: two events.
    first = replay(config, VIDEO / "single_face.mp4")["events"]
    second = replay(config, VIDEO / "noface_face.mp4")["events"]
    assert len(first) == 1 and len(second) == 1
    (man,) = unknown(config)
    assert man["events"] == 2 and man["named_as"] is None
    assert Path(man["crop"]).is_file()

    # Someone else (the Hamilton clip) is another identity.
    replay(config, VIDEO / "short_hamilton_clip.mp4")
    identities = unknown(config)
    assert len(identities) >= 2
    assert [i["events"] for i in identities if i["label"] == man["label"]] == [2]

    named = watcher("faces", "name", man["label"], "visitor", "-c", str(config))
    assert named.returncode == 0, named.stderr
    assert list((tmp_path / "known_faces" / "visitor").glob("*.jpg"))
    # Recognised from now on: no event, and his sightings carry his name.
    assert replay(config, VIDEO / "noface_face.mp4")["events"] == []
    again = replay(config, VIDEO / "single_face.mp4")
    assert again["events"] == []

    # Undone (what the page's undo runs): the photos go, and he is a stranger again.
    undone = watcher("faces", "unname", man["label"], "-c", str(config))
    assert undone.returncode == 0, undone.stderr
    assert not (tmp_path / "known_faces" / "visitor").exists()
    assert len(replay(config, VIDEO / "noface_face.mp4")["events"]) == 1
    renamed = watcher("faces", "name", man["label"], "visitor", "-c", str(config))
    assert renamed.returncode == 0, renamed.stderr

    # A watch-list entry: a known person whose appearance is recorded anyway.
    text = config.read_text() + "people:\n  visitor: {alert: true}\n"
    config.write_text(text)
    (alert,) = replay(config, VIDEO / "noface_face.mp4")["events"]
    assert {f["name"] for f in alert["faces"]} == {"visitor"}


def test_naming_refuses_what_does_not_exist(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    before = watcher("faces", "unname", "unknown-1", "-c", str(config))
    assert before.returncode == 1 and "no database yet" in before.stderr
    assert not list(tmp_path.rglob("*.db")), "undoing nothing must not create a database"
    done = watcher("faces", "name", "unknown-99", "bob", "-c", str(config))
    assert done.returncode == 1 and "unknown-99" in done.stderr
    assert "Traceback" not in done.stderr
    replay(config, VIDEO / "single_face.mp4")
    for label, reason in (("unknown-99", "no unknown identity"), ("unknown-1", "not named")):
        undone = watcher("faces", "unname", label, "-c", str(config))
        assert undone.returncode == 1 and reason in undone.stderr, undone.stderr
        assert "Traceback" not in undone.stderr
