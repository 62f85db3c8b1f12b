"""`watcher run` against a real RTSP server on loopback: events, stream loss, freezes, retries.

Every test runs the real daemon (tests/support/daemon.py) on a config whose camera is the
GStreamer RTSP server of tests/rtsp/harness.py streaming noface_face.mp4 in a loop
(no face until ~4.0 s, then a man until the end at 6.36 s; so an unknown face
comes every 6.36 s and each event lasts until ~2 s into the next round). Short
timeouts keep every outage short: a frozen camera is noticed after about
`read_timeout_s`, a silent one fails to open after `open_timeout_s`.

Times the daemon stores (started_at, ended_at, clip_started_at) are its media
clock mapped to wall time; they are compared with the wall times at which this
test saw a log line, killed or froze the server: an event cannot start after the
daemon reported it, nor end after the camera died.
"""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest

from tests.rtsp.harness import RtspServer, free_port, require_gst_rtsp
from tests.support.cli import write_config
from tests.support.daemon import (
    CONNECTED,
    ENDED,
    EVENT_OPENED,
    Daemon,
    check_playable,
    events,
    new_event,
    wall,
)
from tests.support.media import VIDEO

pytestmark = pytest.mark.gstreamer
require_gst_rtsp()  # skips this module, saying what to install, where it cannot run

CLIP = VIDEO / "noface_face.mp4"  # H.264 960x540, 25 fps, 6.36 s; the man from ~4.0 s
READ_TIMEOUT_S = 2.0
OPEN_TIMEOUT_S = 3.0
PRE_CAPTURE_S = 2.0
POST_CAPTURE_S = 2.0
# Where a wall time taken by this test and one stored by the daemon meet: scheduling
# and the pipe between the two processes, not a frame or more.
CLOCK_SLACK = timedelta(seconds=0.25)

# One warning per outage, whatever ended it: EOF (server gone) or an FFmpeg error
# (a read timeout on a frozen server).
LOST = r"watcher\.capture\.{cam}: (lost: .*; reconnecting|stream ended; reconnecting)"
BACK = r"watcher\.capture\.{cam}: camera back after \d+ s \((\d+) attempts\)"
OPEN_FAILED = r"watcher\.capture\.{cam}: cannot open .*; retrying"
WARNED = r"WARNING watcher\.capture\.{cam}: "


def camera_keys(url: str) -> str:
    """A camera's keys (under `cameras.<name>:`): the URL and short timeouts."""
    return (
        f"    source: {url}\n"
        f"    read_timeout_s: {READ_TIMEOUT_S:g}\n"
        f"    open_timeout_s: {OPEN_TIMEOUT_S:g}\n"
        "    faces: {analyse_fps: 5}\n"
        f"    record: {{pre_capture_s: {PRE_CAPTURE_S:g}, post_capture_s: {POST_CAPTURE_S:g}}}\n"
    )


def rtsp_config(folder: Path, url: str, more_cameras: dict[str, str] | None = None) -> Path:
    """A config whose camera `cam` reads `url` (plus other cameras: name -> URL)."""
    # write_config writes "cameras:\n  cam:\n    source: URL\n"; the rest of cam's keys
    # and any further cameras follow in `extra`.
    keys = camera_keys(url).split("\n", 1)[1]
    extra = keys + "".join(
        f"  {name}:\n{camera_keys(other)}" for name, other in (more_cameras or {}).items()
    )
    return write_config(folder, source=url, extra=extra + "status_interval_s: 0\n")


def count(daemon: Daemon, pattern: str, since: int = 0) -> int:
    """Log lines read so far (from line `since` on) that match `pattern`."""
    regex = re.compile(pattern)
    return sum(bool(regex.search(line)) for line in daemon.lines[since:])


def now() -> datetime:
    return datetime.now(UTC)


def db_details(config: Path) -> tuple[dict[str, datetime | None], dict[str, int]]:
    """From the database itself: each event's clip_started_at, and its sightings count."""
    path = config.parent / "recordings" / "watcher.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        clips = {
            row[0]: None if row[1] is None else _utc(row[1])
            for row in db.execute("SELECT id, clip_started_at FROM events")
        }
        sightings = dict(db.execute("SELECT event_id, count(*) FROM sightings GROUP BY event_id"))
    return clips, sightings


def _utc(stored: str) -> datetime:
    """SQLite keeps naive UTC (watcher.store.models.UTCDateTime)."""
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


@pytest.mark.timeout(90)
def test_unknown_face_over_rtsp_is_an_event_with_a_playable_clip_and_rows(tmp_path: Path) -> None:
    with RtspServer(CLIP, loop=True) as server:
        config = rtsp_config(tmp_path, server.url)
        with Daemon(config) as daemon:
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=30)
            first = daemon.wait_for(new_event(), timeout=20)
            first_seen = now()
            first_id = first.group(1)
            closed = daemon.wait_for(ENDED.format(cam="cam", id=first_id), timeout=15)
            assert closed.group(2) == "closed"
            # The next round's visitor; SIGTERM while it is being recorded.
            second = daemon.wait_for(new_event("cam", first_id), timeout=15)
            second_id = second.group(1)
            time.sleep(0.5)
            stopped = now()
            assert daemon.stop(signal.SIGTERM) == 0
        assert count(daemon, ENDED.format(cam="cam", id=second_id)) == 1

    rows = {str(r["id"]): r for r in events(config)}
    assert set(rows) == {first_id, second_id}, rows
    for row in rows.values():
        assert row["camera"] == "cam" and row["status"] == "closed", row
        assert row["ended_at"] is not None
        assert wall(row["started_at"]) <= wall(row["ended_at"]), row
        assert isinstance(row["snapshot"], str) and cv2.imread(row["snapshot"]) is not None, row
        assert isinstance(row["faces"], int) and row["faces"] >= 1, row
        assert row["closest_distance"] is None  # an empty gallery: no distance
    clips, sightings = db_details(config)
    assert sightings.get(first_id, 0) >= 2 and sightings.get(second_id, 0) >= 1, sightings

    # The first event ran its course: pre-roll, the man (~2.3 s), post-roll.
    one = rows[first_id]
    seconds = check_playable(one, at_least_s=PRE_CAPTURE_S + 2.0)
    span = (wall(one["ended_at"]) - wall(one["started_at"])).total_seconds()
    assert seconds >= span + PRE_CAPTURE_S - 0.1, (seconds, span)
    clip_started = clips[first_id]
    assert clip_started is not None
    lead = (wall(one["started_at"]) - clip_started).total_seconds()
    # A keyframe each <= 1 s. An event that starts on a keyframe (limited decoding
    # analyses keyframes) has one exactly pre_capture_s before: the wall times the media
    # clock maps them to may then differ from it by a fraction of a millisecond.
    assert PRE_CAPTURE_S - 0.005 <= lead <= PRE_CAPTURE_S + 1.05, lead
    check_playable(rows[second_id], at_least_s=1.0)  # cut short by SIGTERM, still whole

    # The daemon's wall clock: the event started when the face was first seen, which
    # is before the daemon said so (it says so after confirm_frames analyses), and the
    # event cut by SIGTERM ended with a frame that came before SIGTERM.
    started = wall(one["started_at"])
    assert started <= first_seen + CLOCK_SLACK, (
        f"event {first_id} started_at {started:%H:%M:%S.%f} is "
        f"{(started - first_seen).total_seconds():.2f} s after its 'unknown face' log line "
        f"was read ({first_seen:%H:%M:%S.%f})"
    )
    ended = wall(rows[second_id]["ended_at"])
    assert ended <= stopped + CLOCK_SLACK, (
        f"event {second_id} ended_at {ended:%H:%M:%S.%f} is "
        f"{(ended - stopped).total_seconds():.2f} s after SIGTERM ({stopped:%H:%M:%S.%f})"
    )


@pytest.mark.timeout(90)
def test_killed_server_is_reconnected_and_the_next_visitor_recorded(tmp_path: Path) -> None:
    with RtspServer(CLIP, loop=True) as server:
        config = rtsp_config(tmp_path, server.url)
        with Daemon(config) as daemon:
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=30)
            opened = daemon.wait_for(new_event(), timeout=20)
            cut_id = opened.group(1)
            time.sleep(1.0)  # mid-event: the man is in view, the clip is being written
            mark = len(daemon.lines)
            killed, killed_at = now(), time.monotonic()
            server.kill()
            daemon.wait_for(LOST.format(cam="cam"), timeout=10, since=mark)
            assert time.monotonic() - killed_at < 5, "the dropped connection was noticed late"
            daemon.wait_for(ENDED.format(cam="cam", id=cut_id), timeout=5, since=mark)
            time.sleep(2.5)  # a few refused attempts
            restarted = now()
            server.restart()
            back = daemon.wait_for(BACK.format(cam="cam"), timeout=20, since=mark)
            assert int(back.group(1)) >= 2, back.group(0)  # it had retried meanwhile
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=5, since=mark)
            nxt = daemon.wait_for(new_event("cam", cut_id), timeout=20, since=mark)
            next_id = nxt.group(1)
            daemon.wait_for(ENDED.format(cam="cam", id=next_id), timeout=15, since=mark)
            assert daemon.stop(signal.SIGTERM) == 0
    # The outage was logged once (not once per refused attempt).
    assert count(daemon, WARNED.format(cam="cam"), since=mark) == 1, daemon.lines[mark:]

    rows = {str(r["id"]): r for r in events(config)}
    assert cut_id in rows and next_id in rows, rows
    assert all(r["status"] == "closed" and r["ended_at"] is not None for r in rows.values())
    check_playable(rows[next_id], at_least_s=PRE_CAPTURE_S)
    assert wall(rows[next_id]["started_at"]) > restarted
    clips, _ = db_details(config)
    next_clip = clips[next_id]
    # Its pre-roll is from the new connection, not from before the kill.
    assert next_clip is not None and next_clip >= restarted - CLOCK_SLACK, (next_clip, restarted)
    cut = rows[cut_id]
    check_playable(cut, at_least_s=PRE_CAPTURE_S)  # the clip open at the kill
    ended = wall(cut["ended_at"])
    assert wall(cut["started_at"]) <= ended
    # The event ends with the last frame that came, which came before the kill.
    assert ended <= killed + CLOCK_SLACK, (
        f"event {cut_id} ended_at {ended:%H:%M:%S.%f} is "
        f"{(ended - killed).total_seconds():.2f} s after the server was killed "
        f"({killed:%H:%M:%S.%f})"
    )


@pytest.mark.timeout(90)
def test_frozen_server_is_noticed_nothing_frozen_recorded_and_watching_resumes(
    tmp_path: Path,
) -> None:
    with RtspServer(CLIP, loop=True) as server:
        config = rtsp_config(tmp_path, server.url)
        with Daemon(config) as daemon:
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=30)
            opened = daemon.wait_for(new_event(), timeout=20)
            frozen_id = opened.group(1)
            time.sleep(1.0)  # mid-event
            mark = len(daemon.lines)
            frozen, frozen_at = now(), time.monotonic()
            server.freeze()
            daemon.wait_for(LOST.format(cam="cam"), timeout=3 * READ_TIMEOUT_S + 2, since=mark)
            noticed_s = time.monotonic() - frozen_at
            assert noticed_s <= 3 * READ_TIMEOUT_S, f"freeze noticed after {noticed_s:.1f} s"
            daemon.wait_for(ENDED.format(cam="cam", id=frozen_id), timeout=5, since=mark)
            with pytest.raises(AssertionError, match="no log line"):  # nothing while frozen
                daemon.wait_for(new_event("cam", frozen_id), timeout=OPEN_TIMEOUT_S + 1, since=mark)
            resumed = now()
            server.resume()
            daemon.wait_for(BACK.format(cam="cam"), timeout=25, since=mark)
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=5, since=mark)
            nxt = daemon.wait_for(new_event("cam", frozen_id), timeout=20, since=mark)
            next_id = nxt.group(1)
            daemon.wait_for(ENDED.format(cam="cam", id=next_id), timeout=15, since=mark)
            assert daemon.stop(signal.SIGTERM) == 0
    assert count(daemon, WARNED.format(cam="cam"), since=mark) == 1, daemon.lines[mark:]

    rows = {str(r["id"]): r for r in events(config)}
    assert all(r["status"] == "closed" and r["ended_at"] is not None for r in rows.values())
    assert wall(rows[next_id]["started_at"]) > resumed  # watching resumed after SIGCONT
    check_playable(rows[next_id], at_least_s=PRE_CAPTURE_S)
    clips, _ = db_details(config)
    next_clip = clips[next_id]
    # Its pre-roll is from the new connection, not from before the freeze.
    assert next_clip is not None and next_clip >= resumed - CLOCK_SLACK, (next_clip, resumed)

    row = rows[frozen_id]
    seconds = check_playable(row, at_least_s=PRE_CAPTURE_S)
    clip_started, ended = clips[frozen_id], wall(row["ended_at"])
    assert clip_started is not None
    # The clip is what came before the freeze: its length is its span in the database...
    assert abs(seconds - (ended - clip_started).total_seconds()) <= 0.3, (seconds, row)
    # ...and that span ends at the freeze: nothing was recorded while frozen.
    assert seconds <= (frozen - clip_started).total_seconds() + 1.0, (
        f"clip of {seconds:.2f} s, but only {(frozen - clip_started).total_seconds():.2f} s "
        f"passed from its start ({clip_started:%H:%M:%S.%f}) to the freeze "
        f"({frozen:%H:%M:%S.%f})"
    )
    assert ended <= frozen + CLOCK_SLACK, (
        f"event {frozen_id} ended_at {ended:%H:%M:%S.%f} is "
        f"{(ended - frozen).total_seconds():.2f} s after the freeze ({frozen:%H:%M:%S.%f})"
    )


@pytest.mark.timeout(60)
def test_nothing_listening_at_start_is_retried_until_the_server_appears(tmp_path: Path) -> None:
    port = free_port()
    url = f"rtsp://127.0.0.1:{port}/stream"
    config = rtsp_config(tmp_path, url)
    server = RtspServer(CLIP, port, loop=True)
    with Daemon(config) as daemon:
        daemon.wait_for(OPEN_FAILED.format(cam="cam"), timeout=30)
        # The retry 1 s after that first failure fails too (the next comes 2 s later):
        # timed from the failure, not from the daemon's start, which a loaded machine slows.
        time.sleep(2.0)
        with server:  # starts it between the second and the third attempt
            assert server.url == url
            back = daemon.wait_for(BACK.format(cam="cam"), timeout=20)
            assert int(back.group(1)) >= 2, back.group(0)
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=5)
            opened = daemon.wait_for(new_event(), timeout=20)
            assert daemon.stop(signal.SIGTERM) == 0
    assert count(daemon, OPEN_FAILED.format(cam="cam")) == 1  # logged once, not per attempt
    (row,) = events(config)
    assert row["id"] == opened.group(1) and row["status"] == "closed"
    check_playable(row, at_least_s=1.0)


@pytest.mark.timeout(60)
def test_dead_and_silent_cameras_do_not_stall_the_live_one(tmp_path: Path) -> None:
    # "porch": a port nobody listens on (refused at once). "garage": a port that
    # accepts connections but never answers, like a hung camera (open timeout).
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent,
        RtspServer(CLIP, loop=True) as server,
    ):
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        garage = f"rtsp://127.0.0.1:{silent.getsockname()[1]}/stream"
        porch = f"rtsp://127.0.0.1:{free_port()}/stream"
        config = rtsp_config(tmp_path, server.url, {"porch": porch, "garage": garage})
        with Daemon(config) as daemon:
            daemon.wait_for(OPEN_FAILED.format(cam="porch"), timeout=30)
            daemon.wait_for(CONNECTED.format(cam="cam"), timeout=15)
            opened = daemon.wait_for(new_event(), timeout=20)
            daemon.wait_for(OPEN_FAILED.format(cam="garage"), timeout=OPEN_TIMEOUT_S + 5)
            daemon.wait_for(ENDED.format(cam="cam", id=opened.group(1)), timeout=15)
            assert daemon.stop(signal.SIGTERM) == 0
    assert count(daemon, OPEN_FAILED.format(cam="porch")) == 1
    assert count(daemon, OPEN_FAILED.format(cam="garage")) == 1
    assert count(daemon, EVENT_OPENED) >= 1
    rows = events(config)
    assert rows and {r["camera"] for r in rows} == {"cam"}, rows
    assert all(r["status"] == "closed" and r["ended_at"] is not None for r in rows)
    check_playable(next(r for r in rows if r["id"] == opened.group(1)), at_least_s=PRE_CAPTURE_S)
