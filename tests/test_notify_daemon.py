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
from tests.support.mosquitto import Broker, Subscriber, publisher
from tests.support.mosquitto import broker as broker  # noqa: F401  (the fixture)
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


@pytest.mark.timeout(180)
def test_the_daemon_publishes_an_event_and_its_complete_snapshot(
    tmp_path: Path,
    broker: Broker,  # noqa: F811
) -> None:
    import cv2
    import numpy as np

    broker.start()
    sub = Subscriber(broker, "home/#", client_id="ha").start()
    try:
        extra = (
            f"mqtt:\n  host: {broker.host}\n  port: {broker.port}\n  topic_prefix: home\n"
            "  client_id: watcher-test\n"
        )
        config = write_config(tmp_path, source=str(VIDEO / "noface_face.mp4"), extra=extra)
        with Daemon(config) as daemon:
            opened = daemon.wait_for(EVENT_OPENED, timeout=60)
            event_id = opened.group(1)
            assert sub.wait("home/available")[-1].payload == b"online"
            sub.wait("home/cam/snapshot", timeout=30)
            assert daemon.stop(signal.SIGTERM) == 0
        bodies = [json.loads(m.payload) for m in sub.wait("home/events", 3, timeout=30)]
        mine = [b for b in bodies if b["after"]["id"] == event_id]
        assert [b["type"] for b in mine][:2] == ["new", "update"] and mine[-1]["type"] == "end"
        assert mine[-1]["after"]["status"] == "closed" and mine[-1]["after"]["clip"]
        on_off = [m.payload for m in sub.on("home/cam/stranger") if not m.retain]
        assert on_off[-2:] == [b"ON", b"OFF"]
        # The retained snapshot is the whole JPEG the event row names.
        (snapshot,) = sub.on("home/cam/snapshot")
        with_snapshot = [b for b in mine if b["type"] == "update" and b["after"]["snapshot"]]
        assert with_snapshot and with_snapshot[0]["before"]["snapshot"] is None
        assert snapshot.payload == Path(with_snapshot[0]["after"]["snapshot"]).read_bytes()
        picture = cv2.imdecode(np.frombuffer(snapshot.payload, np.uint8), cv2.IMREAD_COLOR)
        assert picture is not None and picture.shape[0] > 100
        assert sub.on("home/available")[-1].payload == b"offline"
        assert notify_status(config)["pending"] == 0
    finally:
        sub.stop()


@pytest.mark.timeout(180)
def test_a_known_resident_is_presence_on_mqtt_without_an_event(
    tmp_path: Path,
    broker: Broker,  # noqa: F811
) -> None:
    from watcher.source.demo_photos import install_resident

    broker.start()
    sub = Subscriber(broker, "watcher/#", client_id="ha").start()
    try:
        extra = f"mqtt:\n  host: {broker.host}\n  port: {broker.port}\n  client_id: watcher-test\n"
        config = write_config(tmp_path, source="demo", extra=extra)
        photo = install_resident(tmp_path / "known_faces")
        assert photo is not None
        person = photo.parent
        with Daemon(config) as daemon:
            daemon.wait_for(r"connected to demo scene", timeout=30)
            # The resident passes at 4-11 s of the demo's 30 s period.
            (seen,) = sub.wait(f"watcher/people/{person.name}", timeout=60)
            time.sleep(3.0)  # still in view: told once a minute, not once a frame
            assert daemon.stop(signal.SIGTERM) == 0
        assert len(sub.on(f"watcher/people/{person.name}")) == 1
        state = json.loads(seen.payload)
        assert state["camera"] == "cam" and state["time"]
        assert not seen.retain  # live; it is retained for newcomers
        late = Subscriber(broker, "#", client_id="late").start()
        (kept,) = late.wait(f"watcher/people/{person.name}")
        assert kept.retain and json.loads(kept.payload) == state
        # Home Assistant has a "last seen" sensor for each known person.
        (device,) = late.wait("homeassistant/device/watcher-test/config")
        sensor = json.loads(device.payload)["components"][f"person_{person.name}"]
        assert sensor["state_topic"] == f"watcher/people/{person.name}"
        late.stop()
        assert sub.on("watcher/events") == []  # seeing a known person is no event
    finally:
        sub.stop()


@pytest.mark.timeout(120)
def test_a_camera_disarmed_over_mqtt_records_nothing_when_told_not_to(
    tmp_path: Path,
    broker: Broker,  # noqa: F811
) -> None:
    broker.start()
    with publisher(broker) as ha:
        # Disarmed before watcher starts: the retained state is read back at connect.
        ha.publish("watcher/cam/armed", "OFF", qos=1, retain=True).wait_for_publish(5)
        extra = (
            f"mqtt:\n  host: {broker.host}\n  port: {broker.port}\n  client_id: watcher-test\n"
            "notify:\n  record_when_disarmed: false\n"
        )
        config = write_config(tmp_path, source=str(VIDEO / "noface_face.mp4"), extra=extra)
        with Daemon(config) as daemon:
            daemon.wait_for(r"not recorded: the camera is disarmed", timeout=60)
            daemon.wait_for(r"end of the video file", timeout=60)
            assert daemon.stop(signal.SIGTERM) == 0
        assert not any("recording" in line for line in daemon.lines if "event " in line)
        listed = watcher("events", "list", "--json", "-c", str(config))
        assert listed.returncode == 0 and json.loads(listed.stdout) == []
