"""Bad MQTT input: a wrong TLS certificate, nobody listening: one clear line, no crash."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.support.mosquitto import Broker, free_port, self_signed
from tests.support.mosquitto import broker as broker  # noqa: F401  (the fixture)
from tests.support.store import pending
from watcher.config.notify import MqttConfig, MqttTlsConfig
from watcher.notify.dispatcher import Dispatcher
from watcher.notify.mqtt import MqttChannel
from watcher.store import StoreWriter


def lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_tls_broker_with_its_ca_delivers_and_a_wrong_ca_is_one_clear_line(
    tmp_path: Path,
    broker: Broker,  # noqa: F811  (only for the skip without mosquitto)
    engine: Engine,
    writer: StoreWriter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from datetime import UTC, datetime

    cert, key = self_signed(tmp_path, "broker")
    other, _ = self_signed(tmp_path, "other")
    secure = Broker(tmp_path / "tls", tls=(cert, key))
    secure.start()
    try:
        with caplog.at_level(logging.INFO, logger="watcher.notify"):
            wrong = MqttChannel(
                MqttConfig(host=secure.host, port=secure.port, tls=MqttTlsConfig(ca_file=other)),
                reconnect_max_s=1,
            ).start()
            time.sleep(3.0)  # several attempts
            assert not wrong.ready()
            wrong.close()
        (line,) = lines(caplog, "cannot connect")
        assert f"MQTT broker 127.0.0.1:{secure.port}: TLS: certificate verify failed" in line
        assert "mqtt.tls.ca_file" in line

        right = MqttChannel(
            MqttConfig(host=secure.host, port=secure.port, tls=MqttTlsConfig(ca_file=cert))
        )
        dispatcher = Dispatcher(engine, [right])
        writer.notify_targets = {right.target: right.kinds}
        writer.on_notify = dispatcher.wake
        dispatcher.start()
        try:
            assert right.wait_connected(20)
            writer.open_event("ev1", "cam", datetime.now(UTC))
            assert writer.flush()
            deadline = time.monotonic() + 20
            while pending(engine) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert pending(engine) == 0
        finally:
            assert dispatcher.stop(10)
    finally:
        secure.stop()


def test_nobody_listening_is_one_line_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    with caplog.at_level(logging.INFO, logger="watcher.notify"):
        channel = MqttChannel(MqttConfig(host="127.0.0.1", port=port), reconnect_max_s=1).start()
        time.sleep(3.0)
        channel.close()
    (line,) = lines(caplog, "cannot connect")
    assert (
        line
        == f"notify: cannot connect to MQTT broker 127.0.0.1:{port}: Connection refused; retrying"
    )
