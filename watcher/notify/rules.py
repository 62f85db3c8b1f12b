"""When a push goes out: armed or not (per camera too), quiet hours, a cooldown per identity.

MQTT and webhooks report every event (automations decide for themselves); these rules
are for people's phones. The armed state is set over MQTT (`<prefix>/armed/set`,
`<prefix>/<camera>/armed/set`: ON or OFF) and kept retained on `<prefix>/armed` and
`<prefix>/<camera>/armed`, so it survives a restart; recording goes on when disarmed
unless notify.record_when_disarmed is false (the daemon asks `armed` per camera).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from datetime import time as clock_time

from watcher.config.notify import NotifyConfig


def in_quiet_hours(now: clock_time, start: clock_time, end: clock_time) -> bool:
    """Whether `now` falls in [start, end), which may wrap midnight (22:00-07:00)."""
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


class Gate:
    """The rules' state, shared by the MQTT channel (commands) and the push channels."""

    def __init__(self, config: NotifyConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._armed = True
        self._camera_armed: dict[str, bool] = {}
        self._last_push: dict[str, float] = {}  # identity -> monotonic time of its push
        self._suspended_until = 0.0  # monotonic; pushes suspended before it
        self._someone_home = False  # from notify.presence_topic

    def set_home(self, value: bool) -> None:
        """What notify.presence_topic says: someone is home (pushes muted) or not."""
        with self._lock:
            self._someone_home = value

    def suspend(self, minutes: float) -> None:
        """No push for this many minutes from now; 0 resumes at once."""
        with self._lock:
            self._suspended_until = time.monotonic() + max(0.0, minutes) * 60

    def set_armed(self, value: bool, camera: str | None = None) -> None:
        with self._lock:
            if camera is None:
                self._armed = value
            else:
                self._camera_armed[camera] = value

    def own_armed(self, camera: str) -> bool:
        """The camera's own switch, whatever the global one says."""
        with self._lock:
            return self._camera_armed.get(camera, True)

    def armed(self, camera: str | None = None) -> bool:
        with self._lock:
            if camera is None:
                return self._armed
            return self._armed and self._camera_armed.get(camera, True)

    def why_muted(
        self,
        camera: str,
        identity: str | None,
        now: datetime | None = None,
        kind: str = "unknown",
    ) -> str | None:
        """None when a push may go out now; else why not (see `pushed` for the cooldown)."""
        config = self.config
        if kind not in config.kinds:
            return f"{kind} events are not in notify.kinds"
        if config.cameras is not None and camera not in config.cameras:
            return f"camera {camera} is not in notify.cameras"
        if not self.armed(camera):
            return "disarmed"
        with self._lock:
            if time.monotonic() < self._suspended_until:
                return "notifications suspended"
            if self._someone_home:
                return "someone is home"
        quiet = config.quiet_hours
        if quiet is not None:
            local = (now or datetime.now().astimezone()).time().replace(tzinfo=None)
            if in_quiet_hours(local, quiet.start, quiet.end):
                return "quiet hours"
        if identity and config.cooldown_min > 0:
            with self._lock:
                last = self._last_push.get(identity)
                current = time.monotonic()
                if last is not None and current - last < config.cooldown_min * 60:
                    return f"{identity} was pushed less than {config.cooldown_min:g} min ago"
        return None

    def pushed(self, identity: str | None) -> None:
        """A push about `identity` went out: its cooldown starts (a failed one does not)."""
        if identity:
            with self._lock:
                self._last_push[identity] = time.monotonic()
