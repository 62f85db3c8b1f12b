"""What retention keeps (its limits) and what one pass did (its report and log line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

GB: Final = 1_000_000_000  # decimal, as disks are sold and `df -H` shows
SIZE_LIMIT: Final = "size"
FREE_LIMIT: Final = "free-space"


@dataclass(frozen=True, slots=True)
class RetentionLimits:
    """How much to keep; None switches a limit off."""

    max_age_days: float | None = 14
    max_disk_gb: float | None = 20
    min_free_gb: float | None = 1


@dataclass(slots=True)
class RetentionReport:
    """What one pass removed, and where the limits stand after it."""

    removed: dict[str, int] = field(default_factory=dict)  # events per reason
    removed_ids: list[str] = field(default_factory=list)
    orphan_files: int = 0
    unlisted_clips: int = 0  # clips without a database row, kept until max_age_days
    repaired_rows: int = 0  # paths of vanished files cleared, or found files adopted
    files_removed: int = 0
    bytes_freed: int = 0
    failed_files: int = 0
    total_bytes: int = 0  # watcher's clips, snapshots and crops after the pass
    free_bytes: int = 0  # free space on its filesystem after the pass (estimated)
    over_limit: list[str] = field(default_factory=list)  # limits still passed
    # Limits that removing every event retention may remove could not meet: watcher's
    # own files that must stay (clips being written, open events, clips without a row)
    # pass max_disk_gb, or something else fills the disk. Not chased: no purge.
    unmeetable: dict[str, str] = field(default_factory=dict)  # limit -> why, for the log

    @property
    def events_removed(self) -> int:
        """Events removed, all reasons together."""
        return sum(self.removed.values())

    def summary(self) -> str:
        """One log line."""
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.removed.items()))
        text = (
            f"removed {self.events_removed} event(s){f' ({reasons})' if reasons else ''}, "
            f"{self.orphan_files} orphan file(s), repaired {self.repaired_rows} row(s); "
            f"freed {gb(self.bytes_freed)}; recordings {gb(self.total_bytes)}, "
            f"{gb(self.free_bytes)} free"
        )
        if self.unlisted_clips:
            text += f"; kept {self.unlisted_clips} clip(s) the database does not list"
        if self.failed_files:
            text += f"; {self.failed_files} file(s) could not be removed"
        if self.over_limit:
            text += f"; still over {', '.join(self.over_limit)} limit"
        return text


def gb(n: int) -> str:
    """A byte count for a log line: GB, MB or bytes."""
    if n >= GB:
        return f"{n / GB:.3g} GB"
    return f"{n / 1_000_000:.3g} MB" if n >= 1_000_000 else f"{n} B"
