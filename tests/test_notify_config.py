"""The mqtt, webhooks and notify sections: shipped and commented, validated, paths resolved."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from watcher.config import ConfigError, load_config
from watcher.config.notify import (
    MqttConfig,
    MqttTlsConfig,
    NotifyConfig,
    PushConfig,
    WebhookConfig,
)

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "watcher.yaml"


def write(folder: Path, text: str) -> Path:
    path = folder / "watcher.yaml"
    path.write_text(textwrap.dedent(text).lstrip() + "cameras: {cam: {source: demo}}\n")
    return path


def test_the_shipped_config_comments_every_key_and_keeps_them_off() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert raw["mqtt"] is None and raw["webhooks"] == []  # off until configured
    assert NotifyConfig(**raw["notify"]) == NotifyConfig()
    for model in (MqttConfig, MqttTlsConfig, WebhookConfig, PushConfig):
        for key in model.model_fields:
            assert re.search(rf"^#\s+(- )?{key}:", text, re.M), f"{model.__name__}.{key}"


def test_mqtt_and_webhooks_load_with_paths_against_base_dir(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """
            mqtt:
              host: broker.lan
              user: watcher
              password_file: secrets/mqtt
              tls: {ca_file: ca.pem}
            webhooks:
              - url: https://example.org/hook
                secret_file: secrets/hook
                events: [new, end]
            notify: {give_up_h: 2}
            """,
        )
    )
    assert cfg.mqtt is not None and cfg.mqtt.tls is not None
    assert cfg.mqtt.password_file == tmp_path / "secrets" / "mqtt"
    assert cfg.mqtt.tls.ca_file == tmp_path / "ca.pem"
    assert cfg.mqtt.topic_prefix == "watcher" and cfg.mqtt.port == 1883
    assert cfg.webhooks[0].secret_file == tmp_path / "secrets" / "hook"
    assert cfg.webhooks[0].events == ["new", "end"]
    assert cfg.notify.give_up_h == 2
    assert load_config(write(tmp_path, "")).mqtt is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("mqtt: {port: 1883}", "mqtt.host: required key is missing"),
        ("mqtt: {host: b, topic_prefix: 'a/#'}", "mqtt.topic_prefix: must be topic levels"),
        ("mqtt: {host: b, password: x, password_file: f}", "give password or password_file"),
        ("mqtt: {host: b, hots: c}", "mqtt.hots: unknown key"),
        ("webhooks: [{url: 'ftp://x/y'}]", "webhooks.0.url: must be an http:// or https:// URL"),
        ("webhooks: [{url: 'http://x', secret: 'topsecretvalue'}]", "must be whsec_"),
        ("webhooks: [{url: 'http://x', events: [opened]}]", "webhooks.0.events.0"),
        ("notify: {give_up_h: 0}", "notify.give_up_h"),
    ],
)
def test_bad_notification_config_is_one_line_each(
    tmp_path: Path, section: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, section + "\n"))
    text = str(info.value)
    assert message in text, text
    assert "topsecretvalue" not in text


def test_check_config_reads_the_secret_files_and_masks_urls(tmp_path: Path) -> None:
    from tests.support.cli import watcher

    good = write(
        tmp_path,
        """
        known_faces_dir: known_faces
        mqtt: {host: broker.lan, user: w, password: pw-in-config-123}
        webhooks: [{url: 'https://u:hook-pw-456@example.org/h', secret_file: hook.secret}]
        """,
    )
    (tmp_path / "known_faces").mkdir()
    (tmp_path / "hook.secret").write_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
    done = watcher("check-config", "-c", str(good))
    assert done.returncode == 0, done.stderr
    assert "notifications: MQTT broker.lan:1883 as watcher/, webhook https://u:***@" in done.stdout
    assert "pw-in-config-123" not in done.stdout + done.stderr
    assert "hook-pw-456" not in done.stdout + done.stderr

    (tmp_path / "hook.secret").write_text("not-a-secret\n")
    bad = write(
        tmp_path,
        """
        known_faces_dir: known_faces
        mqtt: {host: broker.lan, user: w, password_file: missing/pw, tls: {cert_file: c.pem}}
        webhooks: [{url: 'https://example.org/h', secret_file: hook.secret}]
        """,
    )
    done = watcher("check-config", "-c", str(bad))
    assert done.returncode == 2
    assert f"mqtt.password_file: cannot read {tmp_path / 'missing' / 'pw'}" in done.stderr
    assert "mqtt.tls: give cert_file and key_file together" in done.stderr
    assert "webhooks.0.secret_file: a webhook secret starts with whsec_" in done.stderr
    assert "not-a-secret" not in done.stderr
