"""Alembic migrations: fresh and pre-migration databases reach a schema equal to the models."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from tests.support.schema import schema_diffs
from watcher.store import (
    current_revision,
    downgrade,
    get_event,
    head_revision,
    init_db,
    list_events,
    make_engine,
    upgrade,
)
from watcher.store.schema import (
    BASELINE_REVISION,
    HEAD_REVISION,
    MIGRATIONS_DIR,
    SchemaError,
    alembic_config,
)

# What `Base.metadata.create_all` wrote on SQLite before migrations existed (the
# schema of the first release), statement for statement.
LEGACY_SQLITE_DDL = (
    """CREATE TABLE events (
        id VARCHAR(32) NOT NULL,
        camera VARCHAR(64) NOT NULL,
        started_at DATETIME NOT NULL,
        ended_at DATETIME,
        clip_path VARCHAR(1024),
        snapshot_path VARCHAR(1024),
        face_path VARCHAR(1024),
        faces INTEGER DEFAULT 0 NOT NULL,
        closest_distance FLOAT,
        status VARCHAR(16) NOT NULL,
        host VARCHAR(255),
        created_at DATETIME NOT NULL,
        CONSTRAINT pk_events PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_events_camera ON events (camera)",
    "CREATE INDEX ix_events_started_at ON events (started_at)",
    """CREATE TABLE sightings (
        id INTEGER NOT NULL,
        event_id VARCHAR(32) NOT NULL,
        at DATETIME NOT NULL,
        offset_s FLOAT NOT NULL,
        top INTEGER NOT NULL,
        "right" INTEGER NOT NULL,
        bottom INTEGER NOT NULL,
        "left" INTEGER NOT NULL,
        name VARCHAR(255),
        distance FLOAT,
        CONSTRAINT pk_sightings PRIMARY KEY (id),
        CONSTRAINT fk_sightings_event_id_events FOREIGN KEY(event_id)
            REFERENCES events (id) ON DELETE CASCADE
    )""",
    "CREATE INDEX ix_sightings_event_id ON sightings (event_id)",
)
LEGACY_ROWS = (
    "INSERT INTO events (id, camera, started_at, ended_at, faces, status, host, created_at)"
    " VALUES ('old1', 'door', '2026-01-02 03:04:05.000000', '2026-01-02 03:04:15.000000',"
    " 1, 'closed', 'pi-1', '2026-01-02 03:04:05.000000')",
    'INSERT INTO sightings (event_id, at, offset_s, top, "right", bottom, "left")'
    " VALUES ('old1', '2026-01-02 03:04:06.000000', 1.0, 1, 2, 3, 4)",
)


def schema_of(engine: Engine) -> dict[str, Any]:
    """The reflected schema: columns, keys and indexes of every table but Alembic's."""
    inspector = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in inspector.get_columns(table)
            ],
            "pk": inspector.get_pk_constraint(table),
            "fks": inspector.get_foreign_keys(table),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
        }
    return out


def legacy_sqlite(path: Path) -> None:
    """A database as the old `init_db` (create_all) left it, with some data."""
    conn = sqlite3.connect(path)
    try:
        for statement in (*LEGACY_SQLITE_DDL, *LEGACY_ROWS):
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "watcher.db"


def test_shipped_scripts_form_one_line_from_the_baseline() -> None:
    assert MIGRATIONS_DIR.parent == Path(__file__).resolve().parent.parent / "watcher" / "store"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()  # shipped as package data
    assert head_revision() == HEAD_REVISION == "0006"
    assert BASELINE_REVISION == "0001"


def test_a_database_at_head_is_opened_without_loading_alembic(db_file: Path) -> None:
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    script = (
        "import sys\n"
        "from watcher.store import init_db, make_engine\n"
        f"engine = make_engine({f'sqlite:///{db_file}'!r})\n"
        "init_db(engine)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_fresh_database_is_upgraded_to_the_models(db_file: Path) -> None:
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == head_revision()
        assert current_revision(engine) == head_revision()
        assert schema_diffs(engine) == []
        assert upgrade(engine) == head_revision()  # again: nothing to do
        # The engine's PRAGMAs survive the migration (foreign keys back on).
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        engine.dispose()


def test_in_memory_database_via_init_db() -> None:
    engine = make_engine("sqlite://")
    try:
        init_db(engine)
        assert current_revision(engine) == head_revision()
        assert schema_diffs(engine) == []
    finally:
        engine.dispose()


def test_legacy_create_all_database_is_stamped_then_upgraded(db_file: Path, tmp_path: Path) -> None:
    legacy_sqlite(db_file)
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        assert current_revision(engine) is None
        assert [str(d) for d in schema_diffs(engine)] != []  # lacks the newer columns
        init_db(engine)
        assert current_revision(engine) == head_revision()
        assert schema_diffs(engine) == []
        old = get_event(engine, "old1")  # its data kept
        assert old is not None and old.status == "closed" and old.host == "pi-1"
        assert old.ended_at is not None and old.ended_at.isoformat() == "2026-01-02T03:04:15+00:00"
        assert old.sightings is not None and len(old.sightings) == 1
        assert old.clip_started_at is None
        assert [e.id for e in list_events(engine)] == ["old1"]
    finally:
        engine.dispose()


def test_baseline_revision_is_the_legacy_schema(db_file: Path, tmp_path: Path) -> None:
    legacy_file = tmp_path / "legacy.db"
    legacy_sqlite(legacy_file)
    legacy = make_engine(f"sqlite:///{legacy_file}")
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), BASELINE_REVISION)
        assert current_revision(engine) == BASELINE_REVISION
        assert schema_of(engine) == schema_of(legacy)
    finally:
        legacy.dispose()
        engine.dispose()


def test_downgrade_and_upgrade_again(db_file: Path) -> None:
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO events (id, camera, started_at, status, created_at, faces)"
                    " VALUES ('e1', 'door', '2026-01-02 03:04:05', 'open', '2026-01-02', 0)"
                )
            )
            conn.execute(text(LEGACY_ROWS[1].replace("'old1'", "'e1'")))
        # SQLite drops a column by copying the table: foreign keys must not cascade.
        downgrade(engine, BASELINE_REVISION)
        assert current_revision(engine) == BASELINE_REVISION
        assert "clip_started_at" not in {c["name"] for c in inspect(engine).get_columns("events")}
        assert upgrade(engine) == head_revision()
        assert schema_diffs(engine) == []
        again = get_event(engine, "e1")  # rows survive both ways
        assert again is not None and again.sightings is not None and len(again.sightings) == 1
    finally:
        engine.dispose()


def test_database_from_a_newer_watcher_is_refused(db_file: Path) -> None:
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaError, match="9999.*upgrade watcher"):
            upgrade(engine)
    finally:
        engine.dispose()
