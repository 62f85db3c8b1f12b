"""Push services through Apprise (the optional extra `watcher[push]`): one library for
ntfy, Pushover, Telegram, e-mail and the many others, with the snapshot attached.

A push tells a person what they need: the camera, the time, "unknown face" or who
(`unknown-3, 4th visit`), and the picture. It goes out with the first message that
names the written snapshot (normally the `update` a few milliseconds after `new`), or
with `end` when no snapshot was ever written; `end` itself only when configured.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from watcher.config.notify import PushConfig
from watcher.notify.channel import DELIVERED, Message, Outcome
from watcher.notify.rules import Gate
from watcher.notify.webhook import hashed_target

log = logging.getLogger("watcher.notify")

TARGET_PREFIX: Final = "push:"


def push_target(url: str) -> str:
    """The outbox target of a push URL: stable, and it does not reveal the URL."""
    return hashed_target(TARGET_PREFIX, url)


def shown(url: str) -> str:
    """A push URL for the log: its scheme only (the rest holds tokens)."""
    return url.partition("://")[0] + "://…"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return "?"


def text_of(kind: str, after: dict[str, Any]) -> tuple[str, str]:
    """Title and body of a push."""
    camera = after.get("camera", "?")
    identity = after.get("identity")
    visits = after.get("visits")
    who = "Unknown face"
    if after.get("kind") == "watch_listed" and after.get("person"):
        who = f"{after['person']} (watch-list)"
    elif identity:
        who = f"{identity}, {_ordinal(int(visits))} visit" if visits else str(identity)
    if kind == "end":
        return f"{camera}: left", f"{who}; event ended at {_when(after.get('end_time'))}"
    return f"{camera}: {who}", f"Seen at {_when(after.get('start_time'))} on {camera}"


class PushChannel:
    """One Apprise URL."""

    def __init__(self, config: PushConfig, gate: Gate | None = None) -> None:
        import apprise  # the optional extra: ImportError when it is not installed

        self.config = config
        self.gate = gate  # the rules (armed, quiet hours, cooldown); None: always push
        self.target = push_target(config.url)
        self.name = f"push {shown(config.url)}"
        self.kinds = frozenset({"new", "update", "end"})
        self._apprise = apprise
        # Apprise logs its own attempts; ours say what matters, without the URL's tokens.
        logging.getLogger("apprise").setLevel(logging.CRITICAL)

    def ready(self) -> bool:
        return True

    def deliver(self, message: Message) -> Outcome:
        body = message.body()
        after: dict[str, Any] = body.get("after") or {}
        before: dict[str, Any] = body.get("before") or {}
        wanted = self.config.events
        picture = after.get("snapshot") or after.get("face")
        if message.kind == "update" and "new" in wanted:
            if not after.get("snapshot") or before.get("snapshot"):
                return DELIVERED  # not the first picture: nothing to push
            return self._send(*text_of("new", after), picture, after)
        if message.kind == "end":
            if "new" in wanted and not after.get("snapshot"):
                return self._send(*text_of("new", after), None, after)  # no picture came
            if "end" in wanted:
                return self._send(*text_of("end", after), picture, after)
        return DELIVERED  # `new` waits for its snapshot

    def _send(self, title: str, body: str, picture: str | None, after: dict[str, Any]) -> Outcome:
        if self.gate is not None:
            muted = self.gate.why_muted(
                str(after.get("camera")),
                after.get("identity"),
                kind=str(after.get("kind") or "unknown"),
            )
            if muted is not None:
                log.info("notify: %s: not pushed (%s)", self.name, muted)
                return DELIVERED  # decided: it is not to be sent
        apprise = self._apprise
        sender = apprise.Apprise()
        if not sender.add(self.config.url):
            return Outcome(False, error="not an Apprise URL it knows", disable=True)
        # A picture gone since (retention, a full disk) must not hold the push back.
        attach = apprise.AppriseAttachment(picture) if picture and Path(picture).is_file() else None
        try:
            ok = sender.notify(title=title, body=body, attach=attach)
        except Exception as exc:  # a plugin's failure is a failed attempt
            return Outcome(False, error=f"{type(exc).__name__}")
        if not ok:
            return Outcome(False, error="the service did not accept it")
        if self.gate is not None:
            self.gate.pushed(after.get("identity"))
        return DELIVERED

    def close(self) -> None:
        """Nothing is kept open between calls."""
