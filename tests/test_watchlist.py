"""The watch-list kept with the gallery (`watcher faces watch`, the review page's toggle):
a known person whose folder holds the marker starts an event, through the real pipeline."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import cli, replay, write_config
from tests.support.media import FACES, VIDEO
from watcher.faces.watchlist import WATCH_FILE, watched

HAMILTON = VIDEO / "short_hamilton_clip.mp4"  # Lin-Manuel Miranda on stage 0-7 s
LIN = "lin_manuel_miranda"


def test_a_person_put_on_the_watch_list_by_command_starts_an_event_and_can_be_taken_off(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, known={LIN: [FACES / "lin_manuel_miranda_1.png"]})
    gallery = tmp_path / "known_faces"
    # Known and not watched: only the audience member (7.4-8.2 s) is an event.
    before = replay(config, HAMILTON)["events"]
    assert all(e["start_s"] >= 6.9 for e in before), before

    done = cli("faces", "watch", LIN, "-c", str(config))
    assert done.returncode == 0 and "on the watch-list" in done.stdout, done.stderr
    assert (gallery / LIN / WATCH_FILE).is_file() and watched(gallery) == {LIN}
    during = replay(config, HAMILTON)["events"]
    his = [e for e in during if LIN in {f["name"] for f in e["faces"]}]
    assert his and his[0]["start_s"] < 6.9, during

    done = cli("faces", "unwatch", LIN, "-c", str(config))
    assert done.returncode == 0 and "off the watch-list" in done.stdout, done.stderr
    assert watched(gallery) == frozenset()
    after = replay(config, HAMILTON)["events"]
    assert all(e["start_s"] >= 6.9 for e in after), after


def test_watching_someone_not_in_the_gallery_is_refused_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    for name in ("nobody", "../etc", ".cache"):
        done = cli("faces", "watch", name, "-c", str(config))
        assert done.returncode == 1, (name, done.stdout)
        assert "add their photos first" in done.stderr and "Traceback" not in done.stderr
    assert not list((tmp_path / "known_faces").rglob(WATCH_FILE))
