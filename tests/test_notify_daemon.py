"""The real daemon: notifications pending at a SIGKILL are delivered after the restart."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.support.cli import watcher, write_config
from tests.support.daemon import Daemon
from tests.support.media import VIDEO
from tests.support.webhook_receiver import SECRET, Receiver

EVENT_OPENED = r"event (\w+): unknown face at ([\d.]+) s, recording"


def notify_status(config: Path) -> dict[str, object]:
    done = watcher("notify", "status", "--json", "-c", str(config))
    assert done.returncode == 0, done.stderr
    (line,) = json.loads(done.stdout)
    assert isinstance(line, dict)
    return line


@pytest.mark.timeout(180)
def test_sigkill_with_pending_deliveries_delivers_them_after_restart(tmp_path: Path) -> None:
    # The endpoint fails at first: the daemon's messages wait in the outbox.
    receiver = Receiver([(500, {})] * 1000)
    try:
        extra = (
            f"webhooks:\n  - url: {receiver.url()}\n    secret: {SECRET}\n"
            "notify:\n  retry_min_s: 0.2\n  retry_max_s: 1\n"
        )
        config = write_config(tmp_path, source=str(VIDEO / "noface_face.mp4"), extra=extra)
        with Daemon(config) as daemon:
            opened = daemon.wait_for(EVENT_OPENED, timeout=60)
            event_id = opened.group(1)
            daemon.wait_for(r"notify: webhook http://127\.0\.0\.1:\d+/hook: HTTP 500", timeout=30)
            daemon.proc.kill()
            daemon.proc.wait(10)
        status = notify_status(config)
        assert int(status["pending"]) >= 1, status  # type: ignore[call-overload]
        assert "HTTP 500" in str(status["last_error"])
        refused = {r["id"] for r in receiver.requests}

        receiver.answers.clear()  # the endpoint is back
        with Daemon(config) as daemon:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = [r for r in receiver.delivered() if r["body"]["after"]["id"] == event_id]  # type: ignore[index]
                if any(r["body"]["type"] == "new" for r in got):  # type: ignore[index]
                    break
                time.sleep(0.2)
            assert daemon.stop(signal.SIGTERM) == 0
        delivered = [r for r in receiver.delivered() if r["body"]["after"]["id"] == event_id]  # type: ignore[index]
        kinds = [r["body"]["type"] for r in delivered]  # type: ignore[index]
        assert kinds[:1] == ["new"], kinds
        assert all(r["signed"] for r in receiver.requests)
        # The message refused before the crash is the one delivered after it: same id.
        assert delivered[0]["id"] in refused
        assert len({r["id"] for r in delivered}) == len(delivered)  # each once
        assert notify_status(config)["pending"] == 0
    finally:
        receiver.close()
