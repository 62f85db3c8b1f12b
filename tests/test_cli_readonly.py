"""Read-only commands never migrate nor create anything, and say when the database is old."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import cli as watcher
from tests.support.cli import write_config
from watcher.store import current_revision, downgrade, init_db, make_engine
from watcher.store.schema import HEAD_REVISION


def test_reading_before_any_database_exists_creates_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path / "home")
    recordings = tmp_path / "home" / "recordings"
    assert not recordings.exists()
    listed = watcher("events", "list", "-c", str(config))
    assert listed.returncode == 0 and "no database yet" in listed.stdout, listed.stderr
    as_json = watcher("events", "list", "--json", "-c", str(config))
    assert as_json.returncode == 0 and as_json.stdout.strip() == "[]"
    assert watcher("faces", "unknown", "-c", str(config)).returncode == 0
    revision = watcher("db", "current", "-c", str(config))
    assert revision.returncode == 0 and "no database yet" in revision.stdout
    assert not recordings.exists()  # no folder, no database file


def test_an_older_database_is_named_not_migrated_by_a_reader(tmp_path: Path) -> None:
    config = write_config(tmp_path / "home")
    db_file = tmp_path / "home" / "recordings" / "watcher.db"
    engine = make_engine(f"sqlite:///{db_file}")
    init_db(engine)
    downgrade(engine, "0003")
    listed = watcher("events", "list", "-c", str(config))
    assert listed.returncode == 1
    assert "revision 0003" in listed.stderr and HEAD_REVISION in listed.stderr
    assert "watcher db upgrade" in listed.stderr
    assert current_revision(engine) == "0003"  # the reader changed nothing
    upgraded = watcher("db", "upgrade", "-c", str(config))
    assert upgraded.returncode == 0 and HEAD_REVISION in upgraded.stdout
    assert watcher("events", "list", "-c", str(config)).returncode == 0
    engine.dispose()


def test_status_of_a_dead_daemon_and_a_broken_status_file_say_so(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    config = write_config(tmp_path / "home")
    recordings = tmp_path / "home" / "recordings"
    recordings.mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)  # a pid that no longer exists
    doc = {"written_at": "2026-12-05T10:00:00+00:00", "pid": gone.pid, "cameras": []}
    (recordings / "status.json").write_text(json.dumps(doc))
    shown = watcher("status", "-c", str(config))
    assert shown.returncode == 0 and f"NOT RUNNING (pid {gone.pid} is gone)" in shown.stdout
    as_json = watcher("status", "--json", "-c", str(config))
    assert json.loads(as_json.stdout)["running"] is False
    (recordings / "status.json").write_text('{"pid": "x", "cameras": [1]}')
    broken = watcher("status", "-c", str(config))
    assert broken.returncode == 1 and "is not a status watcher wrote" in broken.stderr
    assert "Traceback" not in broken.stderr
