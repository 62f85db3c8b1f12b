"""Telling the household: the `mqtt`, `webhooks` and `notify` sections of the config."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import time as dt_time
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

EventKind = Literal["new", "update", "end"]
ALL_KINDS: tuple[EventKind, ...] = ("new", "update", "end")
_TOPIC_PREFIX = re.compile(r"^[^#+/\x00][^#+\x00]*$")
WEBHOOK_SECRET_PREFIX: Final = "whsec_"


def decode_secret(secret: str) -> bytes:
    """The key bytes of a `whsec_<base64>` secret (ValueError when it is not one)."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not key:
        raise ValueError("empty webhook secret")
    return key


class MqttTlsConfig(BaseModel):
    """TLS to the broker; any key turns it on."""

    model_config = ConfigDict(extra="forbid")

    ca_file: Path | None = Field(
        default=None,
        description="CA certificate(s) that signed the broker's; null: the system's CAs.",
    )
    cert_file: Path | None = Field(
        default=None, description="Client certificate, for brokers that ask for one."
    )
    key_file: Path | None = Field(default=None, description="The client certificate's key.")
    insecure: bool = Field(
        default=False,
        description="Accept any broker certificate and host name (testing only).",
    )


class MqttConfig(BaseModel):
    """The MQTT broker (Home Assistant's, usually); MQTT is off while `mqtt` is absent."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, description="The broker's host name or address.")
    port: int = Field(default=1883, ge=1, le=65535, description="1883, or 8883 with TLS.")
    user: str | None = Field(default=None, description="User name; null: anonymous.")
    password: str | None = Field(
        default=None, repr=False, description="Password (or use password_file); never logged."
    )
    password_file: Path | None = Field(
        default=None,
        description="A file holding the password (its first line), e.g. a systemd credential.",
    )
    topic_prefix: str = Field(
        default="watcher",
        description="The topics' prefix: <prefix>/available, <prefix>/events, "
        "<prefix>/<camera>/stranger ...",
    )
    client_id: str = Field(
        default="watcher",
        min_length=1,
        max_length=64,
        description="MQTT client id; unique per watcher on one broker.",
    )
    keepalive_s: int = Field(
        default=30, ge=5, le=3600, description="Seconds between keep-alive pings."
    )
    discovery: bool = Field(
        default=True,
        description="Announce the cameras to Home Assistant (MQTT device discovery).",
    )
    discovery_prefix: str = Field(
        default="homeassistant",
        description="Home Assistant's discovery prefix (its MQTT integration's setting).",
    )
    tls: MqttTlsConfig | None = Field(default=None, description="TLS settings; null: plain TCP.")

    @field_validator("topic_prefix", "discovery_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        """A prefix is topic levels without wildcards, not starting or ending with '/'."""
        value = value.strip()
        if not _TOPIC_PREFIX.match(value) or value.endswith("/"):
            raise PydanticCustomError(
                "topic_prefix", "must be topic levels without '#', '+' or a leading/trailing '/'"
            )
        return value

    @model_validator(mode="after")
    def _one_password(self) -> MqttConfig:
        """password or password_file, not both."""
        if self.password is not None and self.password_file is not None:
            raise PydanticCustomError("password", "give password or password_file, not both")
        return self

    def read_password(self) -> str | None:
        """The password, from the config or its file (OSError when unreadable)."""
        if self.password_file is not None:
            lines = self.password_file.read_text(encoding="utf-8").splitlines()
            return lines[0].strip() if lines else ""
        return self.password


class WebhookConfig(BaseModel):
    """An HTTP endpoint that gets every message as a signed POST (Standard Webhooks v1)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        repr=False,  # it may hold a password or a token
        description="http:// or https:// URL the JSON messages are POSTed to; a user and "
        "password in it are sent as HTTP Basic authentication.",
    )
    secret: str | None = Field(
        default=None,
        repr=False,
        description="Signing secret, `whsec_` and base64; never logged. null: unsigned.",
    )
    secret_file: Path | None = Field(
        default=None, description="A file holding the signing secret (its first line)."
    )
    events: list[EventKind] = Field(
        default_factory=lambda: list(ALL_KINDS),
        description="Which messages this endpoint gets: new, update, end.",
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Seconds a POST may take before it is retried."
    )
    snapshot: bool = Field(
        default=False,
        description="Send the message that first names the snapshot as multipart/form-data: "
        "a `payload` part (the JSON) and a `snapshot` part (the JPEG); signed as a whole.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        """An http(s) URL with a host (the URL is not echoed: it may hold a token)."""
        value = value.strip()
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            host, parts = None, None
        if parts is None or parts.scheme not in ("http", "https") or not host:
            raise PydanticCustomError("webhook_url", "must be an http:// or https:// URL")
        return value

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: str | None) -> str | None:
        """A Standard Webhooks secret: `whsec_` then base64."""
        if value is not None:
            try:
                decode_secret(value)
            except ValueError:
                raise PydanticCustomError(
                    "webhook_secret", "must be whsec_ followed by base64"
                ) from None
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookConfig:
        """secret or secret_file, not both."""
        if self.secret is not None and self.secret_file is not None:
            raise PydanticCustomError("secret", "give secret or secret_file, not both")
        return self

    def read_secret(self) -> str | None:
        """The secret, from the config or its file (OSError when unreadable)."""
        if self.secret_file is not None:
            lines = self.secret_file.read_text(encoding="utf-8").splitlines()
            return lines[0].strip() if lines else ""
        return self.secret


PushEvent = Literal["new", "end"]


class PushConfig(BaseModel):
    """A push service by its Apprise URL (ntfy, Pushover, Telegram, e-mail ...): needs
    the optional extra `watcher[push]`."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        repr=False,  # Apprise URLs hold tokens
        min_length=3,
        description="An Apprise URL, e.g. ntfy://my-topic, pover://user@token, "
        "tgram://bot-token/chat-id; never logged.",
    )
    events: list[PushEvent] = Field(
        default_factory=lambda: list[PushEvent](["new"]),
        description="new: a stranger arrived (sent with the snapshot as soon as it is "
        "written); end: the event ended.",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        """`scheme://...` (the URL is not echoed)."""
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        if not sep or not scheme or not rest or not scheme.replace("+", "").isalnum():
            raise PydanticCustomError("push_url", "must be an Apprise URL, scheme://...")
        return value


class QuietHours(BaseModel):
    """A daily span of local time without pushes (it may wrap midnight)."""

    model_config = ConfigDict(extra="forbid")

    start: dt_time = Field(description="Local time the quiet starts, e.g. 22:00.")
    end: dt_time = Field(description="Local time it ends, e.g. 07:00.")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _yaml_sexagesimal(cls, value: object) -> object:
        """YAML 1.1 reads an unquoted 22:00 as the number 1320 (22 * 60): take it back."""
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return dt_time(value // 60, value % 60)
        return value


class NotifyConfig(BaseModel):
    """How the outbox is delivered (retries, giving up) and when a push goes out."""

    model_config = ConfigDict(extra="forbid")

    quiet_hours: QuietHours | None = Field(
        default=None,
        description="No push in this daily span of local time, e.g. {start: '22:00', "
        "end: '07:00'}; MQTT and webhooks still report. null: none.",
    )
    record_when_disarmed: bool = Field(
        default=True,
        description="Whether a camera that is disarmed (over MQTT) still records strangers; "
        "false: no clip and no event while disarmed (faces are still judged).",
    )
    cooldown_min: float = Field(
        default=10,
        ge=0,
        le=24 * 60,
        description="At most one push per unknown identity in this many minutes (one per "
        "visit, not one per event split); 0: no cooldown.",
    )
    cameras: list[str] | None = Field(
        default=None,
        description="The cameras whose strangers are pushed; null: every camera.",
    )
    kinds: list[Literal["unknown", "watch_listed"]] = Field(
        default_factory=lambda: list[Literal["unknown", "watch_listed"]](
            ["unknown", "watch_listed"]
        ),
        description="Which events are pushed: unknown (strangers), watch_listed (a "
        "watch-listed person, people.<name>.alert).",
    )
    presence_topic: str | None = Field(
        default=None,
        description="An MQTT topic (whole, not under topic_prefix) saying whether someone "
        "is home: while it says ON, home, true or 1, pushes are muted. null: none.",
    )

    give_up_h: float = Field(
        default=24,
        gt=0,
        le=24 * 30,
        description="Hours a message is retried before it is given up (logged once, "
        "kept as failed for `watcher notify status`).",
    )
    retry_min_s: float = Field(
        default=1, gt=0, le=3600, description="First retry delay; it doubles each attempt."
    )
    retry_max_s: float = Field(
        default=300, gt=0, le=86400, description="Longest delay between two attempts."
    )
    failed_keep_days: float = Field(
        default=7, gt=0, le=365, description="Days given-up messages are kept for `notify status`."
    )
