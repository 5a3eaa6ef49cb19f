"""The in-memory tool's data: records with integer versions and one change log per partition.

Cursor forms (opaque to the engine, versioned so a stale format reads as dead):

``m1:<epoch>:<position>``
    incremental: replay the partition's log from ``position``;
``m1:<epoch>:full:<position>:<last_id>``
    a full read in progress: list live records after ``last_id``, then replay the
    log from ``position`` (where the log stood when the full read began).

Invalidating a partition's cursors bumps its ``epoch``; a cursor of an older epoch
raises ``CursorInvalidated``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.errors import CursorInvalidated
from app.models import AnyBody

__all__ = ["FullPosition", "LogEntry", "LogPosition", "MemoryItem", "StreamData"]

_PREFIX = "m1"


@dataclass
class MemoryItem:
    external_id: str
    partition: str
    version: int
    body: AnyBody
    created_at: datetime
    updated_at: datetime
    origin: str | None = None
    deleted_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.deleted_at is None


@dataclass(frozen=True)
class LogEntry:
    """One change as it happened: the record's state right after it (``body`` None = deleted)."""

    external_id: str
    version: int
    body: AnyBody | None
    at: datetime
    origin: str | None
    created_at: datetime


@dataclass(frozen=True)
class LogPosition:
    position: int


@dataclass(frozen=True)
class FullPosition:
    position: int
    after_id: str | None


@dataclass
class StreamData:
    """The records and change logs of one stream."""

    items: dict[str, MemoryItem] = field(default_factory=dict)
    logs: dict[str, list[LogEntry]] = field(default_factory=dict)
    epochs: dict[str, int] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    """Idempotency key of a create -> the id of the record it made."""

    def add_partition(self, partition: str) -> None:
        self.logs.setdefault(partition, [])
        self.epochs.setdefault(partition, 0)

    def log(self, item: MemoryItem) -> None:
        self.logs[item.partition].append(
            LogEntry(
                external_id=item.external_id,
                version=item.version,
                body=item.body if item.live else None,
                at=item.deleted_at or item.updated_at,
                origin=item.origin,
                created_at=item.created_at,
            )
        )

    def live_ids(self, partition: str) -> list[str]:
        return sorted(i.external_id for i in self.items.values() if i.partition == partition and i.live)

    # --- cursors -------------------------------------------------------------------------------

    def log_cursor(self, partition: str, position: int) -> str:
        return f"{_PREFIX}:{self.epochs[partition]}:{position}"

    def full_cursor(self, partition: str, position: int, after_id: str) -> str:
        return f"{_PREFIX}:{self.epochs[partition]}:full:{position}:{after_id}"

    def decode(self, partition: str, cursor: str | None) -> LogPosition | FullPosition:
        """Where ``cursor`` points; raises ``CursorInvalidated`` for a dead or foreign cursor."""
        if cursor is None:
            return FullPosition(len(self.logs[partition]), None)
        parts = cursor.split(":", 4)
        try:
            if parts[0] != _PREFIX or int(parts[1]) != self.epochs[partition]:
                raise CursorInvalidated(f"memory: cursor {cursor!r} is no longer valid for {partition!r}")
            if len(parts) == 3:
                position = int(parts[2])
                result: LogPosition | FullPosition = LogPosition(position)
            elif len(parts) == 5 and parts[2] == "full":
                position = int(parts[3])
                result = FullPosition(position, parts[4])
            else:
                raise ValueError(cursor)
        except (IndexError, ValueError) as exc:
            raise CursorInvalidated(f"memory: unreadable cursor {cursor!r}") from exc
        if not 0 <= position <= len(self.logs[partition]):
            raise CursorInvalidated(f"memory: cursor {cursor!r} points outside the log")
        return result
