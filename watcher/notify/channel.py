"""What the dispatcher needs of a delivery channel (MQTT, a webhook), and its answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Message:
    """One outbox row, as a channel delivers it."""

    row_id: int
    message_id: str
    event_id: str
    camera: str
    kind: str  # new, update, end
    payload: str  # the JSON body: {id, type, before, after}

    def body(self) -> dict[str, Any]:
        """The payload, parsed."""
        parsed: dict[str, Any] = json.loads(self.payload)
        return parsed


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt went."""

    delivered: bool
    error: str | None = None
    retry_after_s: float | None = None  # the receiver asked for this delay (Retry-After)
    disable: bool = False  # the receiver is gone for good (HTTP 410): stop sending


DELIVERED = Outcome(True)


class Channel(Protocol):
    """A delivery target; `target` names its rows in the outbox."""

    target: str
    name: str  # for the log: never a password, token or secret

    def ready(self) -> bool:
        """Whether an attempt can be made now (an MQTT client that is connected)."""
        ...

    def deliver(self, message: Message) -> Outcome:
        """Try once, within a bounded time; never raise."""
        ...

    def close(self) -> None:
        """Let go of connections."""
        ...
