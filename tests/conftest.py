"""Fixtures every test may ask for: a real SQLite database and its writer, the real face
engine and a PostgreSQL server, each made once a session; the helpers are in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine

from tests.support.media import MEDIA
from tests.support.pg import PgServer, postgres_server
from tests.support.store import WRITER_STOP_S
from watcher.store import StoreWriter, init_db, make_engine

if TYPE_CHECKING:  # dlib loads at the first test that asks for the engine, not here
    from tests.support.gallery import CountingEngine


def pytest_configure(config: pytest.Config) -> None:
    """The test media are required: fail at once with a clear message when absent."""
    if not MEDIA.is_dir():
        raise pytest.UsageError(f"test media not found at {MEDIA} (../shared/media)")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's SQLite database goes (its folder is created by the store)."""
    return tmp_path / "data" / "nested" / "watcher.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    """A real SQLite database at the current schema."""
    eng = make_engine(f"sqlite:///{db_path}")
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def writer(engine: Engine) -> Iterator[StoreWriter]:
    """The store's one writer thread on `engine`, stopped (bounded) after the test."""
    w = StoreWriter(engine, backoff_s=0.01).start()
    yield w
    assert w.stop(timeout=WRITER_STOP_S)


@pytest.fixture(scope="session")
def face_engine() -> CountingEngine:
    """The real dlib engine, loaded once for the whole session (it counts its calls)."""
    from tests.support.gallery import CountingEngine

    return CountingEngine()


@pytest.fixture
def counting(face_engine: CountingEngine) -> CountingEngine:
    """The session's engine with its call counts at zero."""
    face_engine.reset()
    return face_engine


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for the session (skipped where none can run)."""
    with postgres_server() as server:
        yield server
