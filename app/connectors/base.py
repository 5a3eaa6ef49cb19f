"""The connector contract: what the sync engine may ask of every tool.

Terms
-----
stream
    One kind of record in a tool (``issues``, ``sprints``, ``pages``, ``messages``, ``events``).
partition
    The unit that owns a cursor inside a stream: a calendar, a channel, a project, a
    space. Streams without partitions use the empty string.
cursor
    An opaque string the connector hands out after each page; the engine stores it in
    the same transaction as that page's records and hands it back on the next read.
    ``None`` means "start from the beginning" (a full read).
change
    One upsert (``body`` set) or one tombstone (``tombstone`` set) of a record.

Errors: a connector raises only :mod:`app.errors` classes. A dead cursor is
``CursorInvalidated``; credentials or scopes are ``ConfigError``/``PermissionDenied``;
throttling is ``RateLimited``; anything temporary is ``TransientError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from app.models import AnyBody, RecordKind, Tombstone

__all__ = [
    "Capability",
    "Change",
    "CheckResult",
    "Connector",
    "Page",
    "Ref",
    "RefBatch",
    "StreamSpec",
    "WebhookHint",
    "WebhookReceiver",
    "WriteResult",
]


class Capability(StrEnum):
    READ = "read"
    INCREMENTAL = "incremental"
    CENSUS = "census"
    WRITE = "write"
    DELETE = "delete"
    WEBHOOKS = "webhooks"


@dataclass(frozen=True)
class StreamSpec:
    """A stream the connector offers. ``partitioned`` streams list their partitions."""

    name: str
    kind: RecordKind
    partitioned: bool = False


@dataclass(frozen=True)
class Change:
    """One upsert or tombstone read from a tool.

    Exactly one of ``body`` and ``tombstone`` is set. ``version`` is the vendor's
    version token (etag, changeKey, version number, updated time as ISO string).
    """

    external_id: str
    version: str | None
    body: AnyBody | None = None
    tombstone: Tombstone | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.body is None) == (self.tombstone is None):
            raise ValueError("a Change carries exactly one of body and tombstone")


@dataclass(frozen=True)
class Page:
    """A page of changes and the cursor to store once the page is committed.

    ``cursor_after`` is ``None`` only when the read has no resumable position yet
    (the engine then keeps the previous cursor). ``api_calls`` counts the vendor
    requests spent on this page.
    """

    changes: Sequence[Change]
    cursor_after: str | None
    api_calls: int = 1


@dataclass(frozen=True)
class Ref:
    """An (id, version) pair from a census listing."""

    external_id: str
    version: str | None


class RefBatch(list[Ref]):
    """A census batch that says how many vendor requests it cost (a plain list counts as one)."""

    def __init__(self, refs: Sequence[Ref] = (), api_calls: int = 1) -> None:
        super().__init__(refs)
        self.api_calls = api_calls


@dataclass(frozen=True)
class WriteResult:
    """What a tool answered to a write: the record's id and its new version.

    ``adopted`` is True when a create found the record an earlier attempt with the same
    idempotency key had already made: ``version`` is then the record's current version,
    which may include edits made since, so the written body may not be its content.
    """

    external_id: str
    version: str | None
    raw: dict[str, Any] = field(default_factory=dict)
    adopted: bool = False


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``check()``: ``ok`` plus exactly which scope or permission is missing."""

    ok: bool
    detail: str = ""
    missing_scopes: tuple[str, ...] = ()


@runtime_checkable
class Connector(Protocol):
    """One configured tool instance.

    ``name`` is the configured instance name (``jira``, ``google-team``), ``system`` the
    vendor (``jira``, ``confluence``, ``slack``, ``google_calendar``, ``outlook``, ``memory``).
    """

    name: str
    system: str
    streams: Sequence[StreamSpec]
    capabilities: frozenset[Capability]

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def check(self) -> CheckResult:
        """Probe credentials and scopes. Never raises for a credentials problem: reports it."""
        ...

    async def list_partitions(self, stream: str) -> list[str]:
        """The partitions of ``stream`` (``[""]`` for an unpartitioned stream)."""
        ...

    def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        """Pages of changes after ``cursor`` (everything when ``None``), each with the cursor to save.

        Raises ``CursorInvalidated`` when ``cursor`` is dead.
        """
        ...

    def list_refs(self, stream: str, partition: str) -> AsyncIterator[Sequence[Ref]]:
        """Every live record of the partition as (id, version), in batches: the census for deletes."""
        ...

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        """Current state of the named records; a missing record comes back as a tombstone."""
        ...

    async def create(
        self, stream: str, partition: str, body: AnyBody, origin: str, *, idempotency_key: str | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> WriteResult:
        """Create a record carrying the hub's ``origin`` marker (for echo suppression).

        A retry with the same ``idempotency_key`` must not make a second record: the
        connector hands the key to the vendor (Graph ``transactionId``, a Google event id
        derived from it) or looks for the record an earlier attempt made, and answers with
        that record (``WriteResult.adopted``).

        ``earlier_attempt_since``: an earlier call for this write may have made the record at or
        after this time (the outbox retrying a row that failed, or that a crashed run left). A
        connector whose tool has no idempotent create but can find a record by its key (Slack)
        looks before creating; the others need not.
        """
        ...

    async def update(
        self, stream: str, external_id: str, body: AnyBody, if_version: str | None, origin: str
    ) -> WriteResult:
        """Update a record; raises ``PreconditionFailed`` when its version is not ``if_version``."""
        ...

    async def delete(self, stream: str, external_id: str, if_version: str | None) -> None:
        """Delete a record; raises ``PreconditionFailed`` on a version mismatch."""
        ...


@dataclass(frozen=True)
class WebhookHint:
    """What a verified webhook delivery names: a targeted sync to run.

    ``external_ids`` empty means "sync the whole partition from its cursor".
    ``answer`` is set for handshakes that must be echoed back (Slack ``challenge``,
    Graph ``validationToken``).
    """

    connector: str
    stream: str
    partition: str = ""
    external_ids: tuple[str, ...] = ()
    deleted_ids: tuple[str, ...] = ()
    delivery_id: str | None = None
    answer: str | None = None


class WebhookReceiver(Protocol):
    """The webhook half of a connector: verify on raw bytes, then parse."""

    def verify(self, headers: dict[str, str], body: bytes) -> None:
        """Raise ``WebhookRejected`` unless the delivery is authentic."""
        ...

    def parse(self, headers: dict[str, str], body: bytes) -> list[WebhookHint]:
        """The targeted syncs the delivery asks for (or a handshake answer)."""
        ...
