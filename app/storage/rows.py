"""The values the store hands out and takes in: cursors, runs, baselines, queue items, links.

Plain dataclasses with no database behind them; :mod:`app.storage.protocol` says what
the store does with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from app.models import RecordKind

__all__ = [
    "BaselineRow",
    "ChangeStats",
    "CursorKey",
    "CursorState",
    "DerivedLink",
    "HeldDeletes",
    "InboxItem",
    "KeyMatch",
    "LinkDirection",
    "LinkRow",
    "OutboxItem",
    "RecordQuery",
    "RunRecord",
    "RunStatus",
    "StoredState",
    "SubscriptionRow",
]


@dataclass(frozen=True)
class CursorKey:
    connector: str
    stream: str
    partition: str = ""


@dataclass(frozen=True)
class StoredState:
    """What the hub holds of a record, as far as telling a change from a repeat needs: no body.

    Loading whole records (their body and raw payload parsed and validated) cost ten times as
    much as these columns, for every change of an incremental sync or a full resync."""

    source_version: str | None
    content_hash: str
    partition: str
    deleted: bool


@dataclass(frozen=True)
class HeldDeletes:
    """Deletes of one partition that a census held back (the mass-delete guard tripped)."""

    key: CursorKey
    missing: int
    """How many of the hub's live records the source no longer listed."""
    reason: str
    held_at: datetime
    approved_up_to: int | None = None
    """An admin's approval: the next census deletes what vanished if it is at most this many."""
    approved_at: datetime | None = None


@dataclass(frozen=True)
class CursorState:
    key: CursorKey
    value: str | None
    updated_at: datetime
    last_full_sync_at: datetime | None = None


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    SUSPICIOUS_MASS_DELETE = "suspicious_mass_delete"


@dataclass
class RunRecord:
    """One sync run of a pair, as shown to an admin."""

    run_id: str
    pair_id: str
    trigger: str  # schedule | webhook | admin | cli | startup
    started_at: datetime
    status: RunStatus = RunStatus.RUNNING
    full: bool = False
    finished_at: datetime | None = None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    api_calls: int = 0
    cursor_before: dict[str, str | None] = field(default_factory=dict)
    cursor_after: dict[str, str | None] = field(default_factory=dict)
    error_class: str | None = None
    error: str | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class BaselineRow:
    """Last synced state of one item of a two-way pair: what each side looked like then.

    Side ``a`` is the pair's source, side ``b`` its target.
    """

    pair_id: str
    a_id: str
    b_id: str
    a_version: str | None
    a_hash: str
    b_version: str | None
    b_hash: str
    updated_at: datetime


@dataclass(frozen=True)
class InboxItem:
    """A verified webhook delivery, stored before it is acknowledged."""

    id: int
    source: str  # jira | slack | google | graph
    delivery_id: str
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    attempts: int = 0
    status: str = "pending"  # pending | done | dead
    last_error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class OutboxItem:
    """A write to a tool, queued durably; ``idempotency_key`` makes a retried write a no-op."""

    id: int
    pair_id: str
    connector: str
    stream: str
    operation: str  # create | update | delete
    idempotency_key: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int = 0
    status: str = "pending"  # pending | done | dead | superseded
    last_error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class LinkRow:
    from_record: str
    to_record: str
    kind: str
    derived_by: str
    created_at: datetime


@dataclass(frozen=True)
class DerivedLink:
    """A link a derivation rule wants (see :meth:`Transaction.replace_links`)."""

    from_record: str
    to_record: str
    kind: str


LinkDirection = Literal["from", "to", "both"]
"""Which links of a record :meth:`Transaction.replace_links` replaces: from it, to it, or both."""


@dataclass(frozen=True)
class KeyMatch:
    """A live record found by a natural key or a key reference, with the key that matched."""

    hub_id: str
    connector: str
    key: str


@dataclass(frozen=True)
class RecordQuery:
    kind: RecordKind | None = None
    connector: str | None = None
    system: str | None = None
    text: str | None = None
    updated_since: datetime | None = None
    include_deleted: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SubscriptionRow:
    """A webhook subscription the hub holds at a vendor (Jira webhook, Google channel, Graph subscription).

    ``vendor`` is the intake source (``jira``, ``google``, ``graph``); ``external_id`` the
    vendor's id for it; ``resource`` what the vendor needs to stop or renew it (Google
    ``resourceId``, Graph resource path); ``status``: ``active`` | ``stopping`` | ``failed``.
    """

    vendor: str
    external_id: str
    connector: str
    stream: str
    partition: str
    status: str
    created_at: datetime
    expires_at: datetime | None = None
    resource: str | None = None
    address: str | None = None
    renewed_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class ChangeStats:
    """Freshness of one connector's records changed in a window (see :mod:`app.storage.freshness`)."""

    changes: int
    by_webhook: int
    lag_p50_s: float | None
    lag_p95_s: float | None
    lag_max_s: float | None
