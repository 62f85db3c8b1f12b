"""The same store code on a real PostgreSQL server shared by several watcher hosts."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.support.media import make_clip, packet_span
from tests.support.pg import PgServer
from tests.support.schema import schema_diffs
from watcher.constants import EVENT_CLOSED, EVENT_INTERRUPTED, EVENT_OPEN
from watcher.housekeeping import recover_open_events
from watcher.store import (
    Base,
    SightingData,
    StoreWriter,
    current_revision,
    get_event,
    head_revision,
    init_db,
    list_events,
    make_engine,
    upgrade,
)
from watcher.store.schema import BASELINE_REVISION

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WAIT_S = 20.0
HOSTS = ("host-a", "host-b")
pytestmark = pytest.mark.postgres


@pytest.fixture
def url(pg_server: PgServer) -> str:
    return pg_server.create_database()


@pytest.fixture
def engines(url: str) -> Iterator[list[Engine]]:
    """One engine per host: each watcher host is its own process with its own pool."""
    made = [make_engine(url) for _ in HOSTS]
    yield made
    for engine in made:
        engine.dispose()


def test_migrations_apply_and_match_the_models(engines: list[Engine]) -> None:
    engine = engines[0]
    assert current_revision(engine) is None
    assert upgrade(engine) == head_revision()
    assert current_revision(engine) == head_revision()
    assert schema_diffs(engine) == []
    with engine.connect() as conn:
        kind = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns"
                " WHERE table_name = 'events' AND column_name = 'started_at'"
            )
        ).scalar_one()
        sighting_id = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns"
                " WHERE table_name = 'sightings' AND column_name = 'id'"
            )
        ).scalar_one()
    assert kind == "timestamp with time zone"
    assert sighting_id == "bigint"


def test_hosts_starting_together_migrate_once(url: str, engines: list[Engine]) -> None:
    # Separate processes, as separate hosts are: they take turns on the server's lock.
    script = (
        "import sys; from watcher.store import make_engine, upgrade;"
        " print(upgrade(make_engine(sys.argv[1])))"
    )
    hosts = [
        subprocess.Popen(
            [sys.executable, "-c", script, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = []
    for host in hosts:
        try:
            out, err = host.communicate(timeout=60)
        finally:
            host.kill()
        outputs.append((host.returncode, out.strip(), err.strip()[-300:]))
    assert outputs == [(0, head_revision(), "")] * len(hosts)
    assert schema_diffs(engines[0]) == []


def test_legacy_create_all_database_is_stamped(engines: list[Engine]) -> None:
    engine = engines[0]
    # The first release's create_all: today's tables without the columns added since.
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "ALTER TABLE events DROP COLUMN clip_started_at, DROP COLUMN decision, "
                "DROP COLUMN reviewed_at"
            )
        )
        conn.execute(text("ALTER TABLE sightings DROP COLUMN note"))
        conn.execute(text("DROP TABLE event_identities"))
        conn.execute(
            text(
                "ALTER TABLE sightings DROP COLUMN identity_id, DROP COLUMN crop_path, "
                "DROP COLUMN embedding"
            )
        )
        conn.execute(text("DROP TABLE unknown_identities"))
        conn.execute(text("DROP TABLE notifications"))
        conn.execute(
            text(
                "INSERT INTO events (id, camera, started_at, status, created_at, faces)"
                " VALUES ('old1', 'door', '2026-01-02 03:04:05+00', 'closed',"
                " '2026-01-02 03:04:05+00', 0)"
            )
        )
    init_db(engine)
    assert current_revision(engine) == head_revision() != BASELINE_REVISION
    assert schema_diffs(engine) == []
    old = get_event(engine, "old1")
    assert old is not None and old.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _host_writes(engine: Engine, host: str, barrier: threading.Barrier, count: int) -> None:
    """One host: its own writer thread, events from two camera threads at once."""
    writer = StoreWriter(engine, backoff_s=0.01).start()

    def camera(name: str) -> None:
        barrier.wait(timeout=WAIT_S)
        for i in range(count):
            event_id = f"{host}-{name}-{i}"
            start = T0 + timedelta(seconds=i)
            writer.open_event(event_id, name, start, host=host)
            writer.add_sightings(
                event_id,
                [SightingData(at=start + timedelta(seconds=0.5), offset_s=0.5, box=(1, 2, 3, 4))],
            )
            if i % 5 != 4:  # every fifth is left open, as a crash would
                writer.close_event(event_id, start + timedelta(seconds=2), faces=1)

    threads = [threading.Thread(target=camera, args=(n,)) for n in ("door", "garden")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_S)
    assert writer.stop(timeout=WAIT_S)


def test_several_hosts_write_into_one_server(engines: list[Engine], tmp_path: Path) -> None:
    for engine in engines:
        init_db(engine)
    count = 20
    barrier = threading.Barrier(2 * len(HOSTS))
    hosts = [
        threading.Thread(target=_host_writes, args=(engine, host, barrier, count))
        for engine, host in zip(engines, HOSTS, strict=True)
    ]
    for t in hosts:
        t.start()
    for t in hosts:
        t.join(timeout=3 * WAIT_S)
        assert not t.is_alive()

    reader = engines[0]
    events = list_events(reader)
    assert len(events) == len(HOSTS) * 2 * count
    for host in HOSTS:
        mine = [e for e in events if e.host == host]
        assert len(mine) == 2 * count
        assert all(e.id.startswith(host) for e in mine)
        assert sum(e.status == EVENT_OPEN for e in mine) == 2 * count // 5
    for event in events:
        assert event.started_at.tzinfo is UTC and event.created_at.tzinfo is UTC
        if event.status == EVENT_CLOSED:
            assert event.ended_at == event.started_at + timedelta(seconds=2)
            assert event.ended_at is not None and event.ended_at.tzinfo is UTC
    assert [e.started_at for e in events] == sorted((e.started_at for e in events), reverse=True)
    one = get_event(reader, "host-b-garden-3")
    assert one is not None and one.sightings is not None and len(one.sightings) == 1
    assert one.sightings[0].at == T0 + timedelta(seconds=3.5)

    # Host A restarts after a crash: one of its open events has a clip on disk.
    recordings = tmp_path / "recordings"
    clip = make_clip(recordings / "door" / "clip.mp4")
    span = packet_span(clip)[1]
    writer = StoreWriter(engines[0]).start()
    writer.update_event("host-a-door-4", clip_path=str(clip), clip_started_at=T0)
    writer.open_event("legacy", "door", T0, host=None)  # written before hosts were recorded
    assert writer.stop(timeout=WAIT_S)

    assert recover_open_events(engines[0], "host-a", recordings=recordings) == 2 * count // 5 + 1
    before = {e.id: e.status for e in events}
    after = {e.id: e for e in list_events(engines[1])}
    for event_id, event in after.items():
        if event_id.startswith("host-b"):
            assert event.status == before[event_id]  # another host's: untouched
        elif event_id == "legacy" or before[event_id] == EVENT_OPEN:
            assert event.status == EVENT_INTERRUPTED
        else:
            assert event.status == EVENT_CLOSED
    with_clip = after["host-a-door-4"]
    assert with_clip.ended_at == T0 + timedelta(seconds=span)
    no_clip = after["host-a-garden-9"]  # ends at its last sighting
    assert no_clip.ended_at == T0 + timedelta(seconds=9.5)
    assert sum(e.status == EVENT_OPEN for e in after.values()) == 2 * count // 5  # host B's
