"""Crash recovery: clips torn by a crash are measured and repaired; open events are closed."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from sqlalchemy import Engine

from tests.support.media import VIDEO, make_clip, packet_span
from watcher.constants import EVENT_CLOSED, EVENT_INTERRUPTED, EVENT_OPEN
from watcher.housekeeping import recover_open_events
from watcher.record.paths import event_paths
from watcher.record.probe import is_playable, last_frame_seconds, readable_size, repair_clip
from watcher.store import SightingData, StoreWriter, get_event

SOURCE = VIDEO / "noface_face.mp4"
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WAIT_S = 10.0
HOST = "pi-1"


# -- clips ----------------------------------------------------------------------------


def boxes(path: Path) -> list[tuple[int, int, bytes]]:
    """The top-level MP4 boxes of a whole file: (offset, size, type)."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        out.append((pos, size, kind))
        pos += size
    return out


def cut(path: Path, size: int, name: str) -> Path:
    """A copy of the first `size` bytes of a clip, as a crash leaves it."""
    out = path.with_name(name)
    out.write_bytes(path.read_bytes()[:size])
    return out


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4")


@pytest.fixture(scope="module")
def fragments(clip: Path) -> list[tuple[int, int, int]]:
    """(moof offset, mdat offset, end) of each moof+mdat pair of the clip."""
    found = boxes(clip)
    return [
        (off, nxt_off, nxt_off + nxt_size)
        for (off, _, kind), (nxt_off, nxt_size, nxt_kind) in zip(found, found[1:], strict=False)
        if kind == b"moof" and nxt_kind == b"mdat"
    ]


def test_whole_clip(clip: Path, fragments: list[tuple[int, int, int]]) -> None:
    assert len(fragments) >= 4  # one per keyframe: the tests below cut inside them
    packets, span = packet_span(clip)
    assert packets > 100
    assert is_playable(clip)
    assert last_frame_seconds(clip) == pytest.approx(span, abs=1e-6)
    assert span == pytest.approx(6.32, abs=0.05)  # 159 frames at 25 fps
    before = clip.read_bytes()
    assert not repair_clip(clip)  # nothing to repair: left byte for byte as it was
    assert clip.read_bytes() == before


def test_clip_torn_inside_a_fragment_header_is_repaired(
    clip: Path, fragments: list[tuple[int, int, int]]
) -> None:
    start, media, _ = fragments[2]
    torn = cut(clip, media - 8, "torn.mp4")  # inside the third fragment's moof box
    with pytest.raises(av.FFmpegError):
        av.open(str(torn)).close()  # FFmpeg refuses the whole file
    assert not is_playable(torn)
    whole = cut(clip, start, "whole.mp4")  # the same clip cut cleanly before that fragment
    packets, span = packet_span(whole)
    assert last_frame_seconds(torn) == pytest.approx(span, abs=1e-6)  # read anyway
    assert readable_size(torn) == start

    assert repair_clip(torn)
    assert is_playable(torn)
    assert packet_span(torn) == (packets, pytest.approx(span, abs=1e-6))
    assert last_frame_seconds(torn) == pytest.approx(span, abs=1e-6)
    assert list(torn.parent.glob(".*.repair")) == []  # no temp file left
    assert not repair_clip(torn)  # repaired once, sound since


def test_clip_torn_inside_media_data_is_repaired(
    clip: Path, fragments: list[tuple[int, int, int]]
) -> None:
    _, media, end = fragments[-1]
    torn = cut(clip, (media + end) // 2, "torn-mdat.mp4")  # half the last fragment's data
    assert is_playable(torn)  # opens, but its last packet is cut short
    whole_packets, _ = packet_span(cut(clip, end, "whole-mdat.mp4"))
    kept_packets, span = packet_span(torn)
    assert 0 < kept_packets < whole_packets
    seconds = last_frame_seconds(torn)
    assert seconds is not None and 0 < seconds <= span + 1e-6

    assert repair_clip(torn)
    packets, repaired_span = packet_span(torn)
    assert packets == kept_packets  # every whole packet kept, the torn one dropped
    assert last_frame_seconds(torn) == pytest.approx(seconds, abs=1e-6)
    assert repaired_span == pytest.approx(seconds, abs=0.05)


def test_unreadable_clips(
    clip: Path, fragments: list[tuple[int, int, int]], tmp_path: Path
) -> None:
    header_only = cut(clip, fragments[0][0], "header.mp4")  # ftyp + moov, no frame
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01not a clip" * 100)
    for path in (header_only, garbage, tmp_path / "missing.mp4"):
        assert not is_playable(path)
        assert last_frame_seconds(path) is None
        assert not repair_clip(path)
    assert garbage.read_bytes() == b"\x00\x01not a clip" * 100  # left alone


# -- recovery -------------------------------------------------------------------------


# The `engine` and `writer` fixtures (a real SQLite file, one writer) are in conftest.py.


def open_event(
    writer: StoreWriter,
    event_id: str,
    started_at: datetime = T0,
    *,
    host: str | None = HOST,
    sightings: tuple[float, ...] = (),
    **fields: object,
) -> None:
    """An event as a killed run leaves it: opened, maybe with sightings, never closed."""
    writer.open_event(event_id, "door", started_at, host=host)
    if sightings:
        writer.add_sightings(
            event_id,
            [
                SightingData(at=started_at + timedelta(seconds=s), offset_s=s, box=(1, 2, 3, 4))
                for s in sightings
            ],
        )
    if fields:
        writer.update_event(event_id, **fields)
    assert writer.flush(timeout=WAIT_S)


def test_recovery_ends_events_at_their_clips_last_frame(
    engine: Engine, writer: StoreWriter, clip: Path, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    span = packet_span(clip)[1]
    # The recorder stored the clip's path and its first frame's time (pre-roll: 3 s early).
    stored = make_clip(recordings / "door" / "stored.mp4")
    clip_start = T0 - timedelta(seconds=3)
    open_event(
        writer, "stored", sightings=(0.0, 1.0), clip_path=str(stored), clip_started_at=clip_start
    )
    # A crash before the clip's path reached the database: found where the recorder puts it.
    found = event_paths(recordings, "door", T0 + timedelta(minutes=1), "found").clip
    make_clip(found)
    open_event(writer, "found", T0 + timedelta(minutes=1), sightings=(0.5,))

    assert recover_open_events(engine, HOST, recordings=recordings) == 2

    first = get_event(engine, "stored")
    assert first is not None and first.status == EVENT_INTERRUPTED
    assert first.ended_at == clip_start + timedelta(seconds=span)
    assert first.ended_at is not None and first.ended_at.tzinfo is UTC
    assert first.clip_path == str(stored)
    second = get_event(engine, "found")
    assert second is not None and second.status == EVENT_INTERRUPTED
    # No clip start stored: the clip is taken to start with the event.
    assert second.ended_at == T0 + timedelta(minutes=1, seconds=span)
    assert second.clip_path == str(found)  # the row now points at its file

    assert recover_open_events(engine, HOST, recordings=recordings) == 0  # nothing left


def test_recovery_without_a_clip_uses_the_last_sighting(
    engine: Engine, writer: StoreWriter, tmp_path: Path
) -> None:
    open_event(writer, "seen", sightings=(2.5, 0.5, 4.25))
    open_event(writer, "unseen", T0 + timedelta(minutes=1))
    gone = tmp_path / "recordings" / "door" / "gone.mp4"  # stored, then lost
    open_event(writer, "lost", T0 + timedelta(minutes=2), sightings=(1.0,), clip_path=str(gone))

    assert recover_open_events(engine, HOST, recordings=tmp_path / "recordings") == 3
    seen, unseen, lost = (get_event(engine, i) for i in ("seen", "unseen", "lost"))
    assert seen is not None and seen.ended_at == T0 + timedelta(seconds=4.25)
    assert unseen is not None and unseen.ended_at == unseen.started_at
    assert lost is not None and lost.ended_at == T0 + timedelta(minutes=2, seconds=1)
    assert {e.status for e in (seen, unseen, lost)} == {EVENT_INTERRUPTED}


def test_recovery_repairs_a_torn_clip(
    engine: Engine,
    writer: StoreWriter,
    clip: Path,
    fragments: list[tuple[int, int, int]],
    tmp_path: Path,
) -> None:
    start, media, _ = fragments[3]
    torn = tmp_path / "torn.mp4"
    torn.write_bytes(clip.read_bytes()[: media - 8])  # power cut while writing a moof
    span = packet_span(cut(clip, start, "expected.mp4"))[1]
    assert not is_playable(torn)
    open_event(writer, "torn", sightings=(0.0, 9.0), clip_path=str(torn))

    assert recover_open_events(engine, HOST) == 1
    assert is_playable(torn)
    record = get_event(engine, "torn")
    assert record is not None and record.status == EVENT_INTERRUPTED
    assert record.ended_at == T0 + timedelta(seconds=span)  # the clip's, not the sighting's


def test_recovery_touches_only_this_hosts_open_events(engine: Engine, writer: StoreWriter) -> None:
    open_event(writer, "mine")
    open_event(writer, "nobodys", host=None)
    open_event(writer, "theirs", host="pi-2")
    open_event(writer, "done")
    writer.close_event("done", T0 + timedelta(seconds=5))
    assert writer.flush(timeout=WAIT_S)

    assert recover_open_events(engine, HOST) == 2
    statuses = {
        i: r.status for i in ("mine", "nobodys", "theirs", "done") if (r := get_event(engine, i))
    }
    assert statuses == {
        "mine": EVENT_INTERRUPTED,
        "nobodys": EVENT_INTERRUPTED,
        "theirs": EVENT_OPEN,  # another host may still be recording it
        "done": EVENT_CLOSED,
    }
    done = get_event(engine, "done")
    assert done is not None and done.ended_at == T0 + timedelta(seconds=5)
