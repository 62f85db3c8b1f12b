"""Telling the household: the outbox's dispatcher and its channels (MQTT, webhooks).

Only watcher/notify/mqtt.py imports paho-mqtt, and only when `mqtt` is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from watcher.config import WatcherConfig, mask_url
from watcher.config.notify import decode_secret
from watcher.notify.channel import Channel, Message, Outcome
from watcher.notify.dispatcher import Dispatcher
from watcher.notify.rules import Gate
from watcher.notify.webhook import WebhookChannel, webhook_target
from watcher.store.tables import notifications

log = logging.getLogger("watcher.notify")

__all__ = [
    "Channel",
    "Dispatcher",
    "Message",
    "Outcome",
    "TargetStatus",
    "config_problems",
    "describe",
    "make_channels",
    "make_dispatcher",
    "outbox_status",
    "webhook_target",
]


def make_channels(
    cfg: WatcherConfig,
    people: Sequence[str] = (),
    on_reload: Callable[[], None] | None = None,
    gate: Gate | None = None,
) -> list[Channel]:
    """The configured channels; one that cannot be made (unreadable secret) is logged, left out.
    `gate`: the rules' state (armed, quiet hours, cooldown), shared with the daemon."""
    channels: list[Channel] = []
    gate = gate if gate is not None else Gate(cfg.notify)
    if cfg.mqtt is not None:
        from watcher.notify.mqtt import MqttChannel

        try:
            channels.append(
                MqttChannel(
                    cfg.mqtt,
                    cameras=list(cfg.cameras),
                    people=people,
                    gate=gate,
                    on_reload=on_reload,
                    reconnect_max_s=_reconnect_max(cfg),
                )
            )
        except (OSError, ValueError) as exc:
            log.error("notify: MQTT off: %s", _reason(exc))
    for hook in cfg.webhooks:
        try:
            channels.append(WebhookChannel(hook))
        except (OSError, ValueError) as exc:
            log.error("notify: webhook left out: %s", _reason(exc))
    for push in cfg.push:
        from watcher.notify.push import PushChannel, shown

        try:
            channels.append(PushChannel(push, gate))
        except ImportError:
            log.error(
                "notify: push %s left out: Apprise is not installed (pip install 'watcher[push]')",
                shown(push.url),
            )
    return channels


def config_problems(cfg: WatcherConfig) -> list[str]:
    """What check-config can find before start: unreadable secret, password and TLS files."""
    problems: list[str] = []

    def readable(key: str, path: Path | None) -> None:
        if path is None:
            return
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            problems.append(f"{key}: cannot read {path}: {exc.strerror or exc}")

    if cfg.mqtt is not None:
        readable("mqtt.password_file", cfg.mqtt.password_file)
        tls = cfg.mqtt.tls
        if tls is not None:
            for name in ("ca_file", "cert_file", "key_file"):
                readable(f"mqtt.tls.{name}", getattr(tls, name))
            if (tls.cert_file is None) != (tls.key_file is None):
                problems.append("mqtt.tls: give cert_file and key_file together")
    if cfg.notify.presence_topic and cfg.mqtt is None:
        problems.append("notify.presence_topic: needs mqtt (the topic is read from the broker)")
    for index, hook in enumerate(cfg.webhooks):
        readable(f"webhooks.{index}.secret_file", hook.secret_file)
        if hook.secret_file is not None:
            try:
                secret = hook.read_secret()
                if secret:
                    decode_secret(secret)
            except OSError:
                pass  # said above
            except ValueError as exc:
                problems.append(f"webhooks.{index}.secret_file: {exc}")
    return problems


def describe(cfg: WatcherConfig) -> str:
    """One line for check-config: where notifications go."""
    parts = []
    if cfg.mqtt is not None:
        tls = " (TLS)" if cfg.mqtt.tls is not None else ""
        parts.append(f"MQTT {cfg.mqtt.host}:{cfg.mqtt.port}{tls} as {cfg.mqtt.topic_prefix}/")
    parts.extend(f"webhook {mask_url(hook.url)}" for hook in cfg.webhooks)
    from watcher.notify.push import shown

    parts.extend(f"push {shown(push.url)}" for push in cfg.push)
    return "notifications: " + (", ".join(parts) if parts else "off (no mqtt, webhooks, push)")


def _reconnect_max(cfg: WatcherConfig) -> int:
    return max(1, min(30, int(cfg.notify.retry_max_s)))


def _reason(exc: BaseException) -> str:
    """An OSError's message names the file, never its contents."""
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc)


def make_dispatcher(
    cfg: WatcherConfig,
    engine: Engine,
    people: Sequence[str] = (),
    on_reload: Callable[[], None] | None = None,
    gate: Gate | None = None,
) -> Dispatcher | None:
    """The dispatcher of the configured channels, not started; None when nothing is configured.
    `people`: the gallery's known people, announced to Home Assistant; `on_reload`: what
    the MQTT command `<prefix>/gallery/reload` does."""
    channels = make_channels(cfg, people, on_reload, gate)
    if not channels:
        return None
    timeouts = [hook.timeout_s for hook in cfg.webhooks] or [10.0]
    return Dispatcher(
        engine,
        channels,
        give_up_h=cfg.notify.give_up_h,
        retry_min_s=cfg.notify.retry_min_s,
        retry_max_s=cfg.notify.retry_max_s,
        failed_keep_days=cfg.notify.failed_keep_days,
        max_attempt_s=max(*timeouts, 10.0),
    )


def targets_of(channels: list[Channel]) -> dict[str, frozenset[str]]:
    """What the store's writer writes rows for: each channel's target and its kinds."""
    return {c.target: frozenset(getattr(c, "kinds", ("new", "update", "end"))) for c in channels}


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """`watcher notify status`: one target's pending and failed messages."""

    target: str
    name: str
    pending: int
    failed: int
    oldest_pending: datetime | None
    last_error: str | None


def outbox_status(cfg: WatcherConfig, engine: Engine) -> list[TargetStatus]:
    """Pending and failed messages per target (read only)."""
    mqtt = cfg.mqtt
    names = {"mqtt": f"MQTT {mqtt.host}:{mqtt.port}" if mqtt else "MQTT (not configured)"}
    for hook in cfg.webhooks:
        names[webhook_target(hook.url)] = f"webhook {mask_url(hook.url)}"
    from watcher.notify.push import push_target, shown

    for push in cfg.push:
        names[push_target(push.url)] = f"push {shown(push.url)}"
    with engine.connect() as conn:
        counts = conn.execute(
            select(
                notifications.c.target,
                notifications.c.status,
                func.count(),
                func.min(notifications.c.created_at),
            ).group_by(notifications.c.target, notifications.c.status)
        ).all()
        errors = dict(
            conn.execute(
                select(notifications.c.target, notifications.c.last_error)
                .where(notifications.c.last_error.is_not(None))
                .order_by(notifications.c.id)
            ).all()
        )
    by_target: dict[str, dict[str, tuple[int, datetime | None]]] = {}
    for target, status, count, first in counts:
        by_target.setdefault(target, {})[status] = (int(count), first)
    out = []
    for target in sorted(set(names) | set(by_target)):
        if target == "mqtt" and cfg.mqtt is None and target not in by_target:
            continue
        seen = by_target.get(target, {})
        pending, oldest = seen.get("pending", (0, None))
        failed, _ = seen.get("failed", (0, None))
        out.append(
            TargetStatus(
                target,
                names.get(target, f"{target} (no longer configured)"),
                pending,
                failed,
                oldest,
                errors.get(target),
            )
        )
    return out
