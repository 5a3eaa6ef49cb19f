"""What the rest of the hub may ask of the store, independent of the database behind it.

The store is synchronous (SQLAlchemy 2); async callers run it in a worker thread.
Every write that must be atomic goes through :meth:`Store.transaction`, whose
``Transaction`` commits on a clean exit and rolls back on an exception: the engine
writes a page's records and the cursor after it in one such transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from app.models import Account, Record, RecordKind, Tombstone
from app.storage.rows import (
    BaselineRow,
    ChangeStats,
    CursorKey,
    CursorState,
    DerivedLink,
    HeldDeletes,
    InboxItem,
    KeyMatch,
    LinkDirection,
    LinkRow,
    OutboxItem,
    RecordQuery,
    RunRecord,
    RunStatus,
    StoredState,
    SubscriptionRow,
)

if TYPE_CHECKING:
    # Not at run time: app.storage.retention imports app.storage.queues, which imports this module.
    from app.storage.retention import Pruned

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
    "Store",
    "StoredState",
    "SubscriptionRow",
    "Transaction",
]



class Transaction(Protocol):
    """Writes that commit together."""

    def upsert_record(self, record: Record, run_id: str | None = None) -> None:
        """Insert or replace the record with ``record.hub_id``; ``run_id`` is kept as lineage."""
        ...

    def upsert_records(self, batch: Sequence[Record], run_id: str | None = None) -> None:
        """:meth:`upsert_record` of each record in order, in a few statements for the lot."""
        ...

    def tombstone_record(self, hub_id: str, tombstone: Tombstone, run_id: str | None = None) -> bool:
        """Mark a live record deleted; returns False if it was unknown or already deleted."""
        ...

    def set_cursor(self, key: CursorKey, value: str | None, *, full_sync_done: bool = False) -> None: ...

    def put_baseline(self, row: BaselineRow) -> None: ...

    def delete_baseline(self, pair_id: str, a_id: str) -> None: ...

    def put_link(self, from_record: str, to_record: str, kind: str, derived_by: str) -> None:
        """Record a derived link between two hub ids (idempotent)."""
        ...

    def enqueue_outbox(
        self, pair_id: str, connector: str, stream: str, operation: str, idempotency_key: str,
        payload: dict[str, Any],
    ) -> bool:
        """Queue a write; False when the idempotency key was already queued."""
        ...

    def outbox_done(self, item_id: int) -> None:
        """Mark a queued write applied, together with the hub writes that record its result."""
        ...

    def outbox_supersede(self, item_id: int, reason: str) -> None:
        """Close a queued write unapplied (the next plan decides afresh) and release its key."""
        ...

    def outbox_revive(self, idempotency_key: str) -> bool:
        """Put the dead write with this key back to pending; False when there is none."""
        ...

    # --- derivation (links and people; see app.sync.derive and app.storage.lookup) --------------
    def find_live(self, kind: RecordKind, natural_keys: Collection[str]) -> list[KeyMatch]:
        """Live records of ``kind`` whose natural key is one of ``natural_keys`` (this transaction's
        writes included)."""
        ...

    def key_refs_to(self, rule: str, keys: Collection[str]) -> list[KeyMatch]:
        """Live records in which ``rule`` found one of ``keys``."""
        ...

    def set_key_refs(self, rule: str, refs: Mapping[str, Collection[str]]) -> None:
        """For each record (hub id -> keys), make the keys exactly those ``rule`` found in it."""
        ...

    def replace_links(
        self, derived_by: str, wanted: Mapping[str, Collection[DerivedLink]], *,
        direction: LinkDirection = "from",
    ) -> None:
        """For each record (hub id -> links), make the links exactly its ``derived_by`` links in
        ``direction``; links kept keep their creation time, links of other rules are untouched."""
        ...

    def note_accounts(self, accounts: Sequence[Account], *, authoritative: bool = False) -> int:
        """Record tool accounts seen in synced records and attach each to a person (as
        :meth:`Store.upsert_account`); a non-authoritative sighting only adds what it knows.
        Returns how many accounts were new or changed."""
        ...


class Store(Protocol):
    # --- lifecycle -------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def ping(self) -> bool:
        """True when the database answers."""
        ...

    def close(self) -> None: ...

    # --- records ---------------------------------------------------------------------------
    def get_record(self, hub_id: str) -> Record | None: ...

    def get_records(self, hub_ids: Sequence[str]) -> dict[str, Record]:
        """The named records that exist (tombstoned included), by hub id."""
        ...

    def stored_states(self, hub_ids: Sequence[str]) -> dict[str, StoredState]:
        """Version, hash, partition and deletion of the named records that exist (tombstoned
        included), by hub id: what preparing a page compares, without loading bodies."""
        ...

    def live_refs(self, connector: str, stream: str, partition: str,
                  fetched_until: datetime | None = None) -> dict[str, str | None]:
        """external id -> source version of the live records of one partition.

        With ``fetched_until``, only the records last written at or before that instant.
        """
        ...

    def count_records(self, connector: str | None = None, stream: str | None = None,
                      include_deleted: bool = False) -> int: ...

    def search_records(self, query: RecordQuery) -> list[Record]: ...

    def iter_records(self, connector: str, stream: str | None = None,
                     include_deleted: bool = True) -> Iterator[Record]:
        """Every record of a connector, streamed (never all loaded at once)."""
        ...

    def links_for(self, hub_id: str) -> list[LinkRow]:
        """Links from or to the record."""
        ...

    def find_by_natural_key(self, kind: RecordKind, natural_key: str) -> list[Record]:
        """Live records of ``kind`` named ``natural_key`` (an issue key, an iCalUID), by hub id."""
        ...

    def record_lineage(self, hub_id: str) -> str | None:
        """The run id or delivery id that last wrote the record."""
        ...

    # --- cursors ---------------------------------------------------------------------------
    def get_cursor(self, key: CursorKey) -> CursorState | None: ...

    def list_cursors(self, connector: str | None = None) -> list[CursorState]: ...

    # --- runs ------------------------------------------------------------------------------
    def save_run(self, run: RunRecord) -> None:
        """Insert or update the run with ``run.run_id``."""
        ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def list_runs(self, pair_id: str | None = None, status: RunStatus | None = None,
                  limit: int = 50) -> list[RunRecord]:
        """Newest first."""
        ...

    # --- leases ----------------------------------------------------------------------------
    def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        """Take or renew the lease ``name``; False if another owner holds an unexpired one."""
        ...

    def release_lease(self, name: str, owner: str) -> None: ...

    # --- two-way baseline ------------------------------------------------------------------
    def baseline(self, pair_id: str) -> Mapping[str, BaselineRow]:
        """a_id -> row for every item of the pair."""
        ...

    # --- webhook inbox ---------------------------------------------------------------------
    def inbox_put(self, source: str, delivery_id: str, headers: dict[str, str], body: bytes) -> bool:
        """Store a delivery durably; False if ``(source, delivery_id)`` was already stored."""
        ...

    def inbox_put_many(self, items: Sequence[tuple[str, str, dict[str, str], bytes]]) -> list[bool]:
        """Store ``(source, delivery_id, headers, body)`` deliveries in ONE transaction (group commit).

        One flag per item, in order, as :meth:`inbox_put` would answer it: False for a delivery
        already stored (also earlier in ``items``). All or nothing: if it raises, none is stored.
        """
        ...

    def inbox_claim(self, owner: str, limit: int = 20, claim_ttl_s: float | None = None) -> list[InboxItem]:
        """Pending deliveries due now, claimed for ``owner`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).

        The claim lasts ``claim_ttl_s`` (the store's default when None); a claim that is not
        extended lapses, so the deliveries of a process that died are claimed again.
        """
        ...

    def inbox_extend_claims(self, owner: str, item_ids: Sequence[int], claim_ttl_s: float) -> int:
        """Keep ``owner``'s claims on deliveries it is still working on; returns how many were extended."""
        ...

    def inbox_done(self, item_id: int) -> None: ...

    def inbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failure; ``retry_at=None`` makes the delivery a dead letter."""
        ...

    def inbox_list(self, status: str | None = None, limit: int = 50) -> list[InboxItem]: ...

    def inbox_retry(self, item_id: int) -> bool:
        """Put a dead letter back to pending."""
        ...

    # --- outbox ----------------------------------------------------------------------------
    def outbox_claim(self, owner: str, limit: int = 20) -> list[OutboxItem]: ...

    def outbox_claim_pair(self, pair_id: str, owner: str) -> list[OutboxItem]:
        """Every pending write of ``pair_id``, oldest first, claimed for ``owner`` whoever held it
        before: only the holder of the pair's lease may call this (see :mod:`app.sync.outbox`)."""
        ...

    def outbox_done(self, item_id: int) -> None: ...

    def outbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None: ...

    def outbox_list(self, status: str | None = None, limit: int = 50) -> list[OutboxItem]: ...

    # --- deletes held back by the mass-delete guard ---------------------------------------
    def hold_deletes(self, key: CursorKey, missing: int, reason: str) -> HeldDeletes:
        """Record that a census of ``key`` held back ``missing`` deletes; an approval already
        given is kept (the census judges it against the new count)."""
        ...

    def approve_held_deletes(self, key: CursorKey, up_to: int) -> HeldDeletes | None:
        """Let the next census of ``key`` delete up to ``up_to`` vanished records; None when
        nothing is held there."""
        ...

    def release_held_deletes(self, key: CursorKey) -> None:
        """Forget what was held for ``key`` (a census deleted it, or found nothing to hold)."""
        ...

    def held_deletes(self, key: CursorKey) -> HeldDeletes | None: ...

    def list_held_deletes(self, connector: str | None = None) -> list[HeldDeletes]: ...

    # --- retention -------------------------------------------------------------------------
    def prune_finished(
        self, older_than: timedelta, *, batch_size: int = 5_000, should_stop: Callable[[], bool] = ...
    ) -> Pruned:
        """Delete inbox rows ``done`` and outbox rows ``done`` or ``superseded`` received / created
        more than ``older_than`` ago, ``batch_size`` rows per transaction; ``pending`` and ``dead``
        rows stay whatever their age. ``should_stop`` is asked before each batch and ends the call
        early (``Pruned.stopped``). A pruned delivery id no longer dedupes a redelivery; see
        :mod:`app.storage.retention` for why a pruned write is never made again."""
        ...

    # --- people ----------------------------------------------------------------------------
    def upsert_account(self, system: str, account_id: str, email: str | None, email_verified: bool,
                       display_name: str | None) -> str:
        """Record a tool account and attach it to a person (matched by verified email, else a new
        person, unless an admin override pins it); returns the person id."""
        ...

    def set_identity_override(self, system: str, account_id: str, person_id: str) -> None: ...

    def person_for_account(self, system: str, account_id: str) -> str | None:
        """The person id the account belongs to, if the hub has seen the account."""
        ...

    def list_people(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Each person with display name, emails and accounts."""
        ...

    # --- webhook subscriptions ---------------------------------------------------------------
    def put_subscription(self, row: SubscriptionRow) -> None:
        """Insert or replace the row with ``(row.vendor, row.external_id)``."""
        ...

    def get_subscription(self, vendor: str, external_id: str) -> SubscriptionRow | None: ...

    def list_subscriptions(
        self, connector: str | None = None, status: str | None = None
    ) -> list[SubscriptionRow]:
        """Ordered by connector, stream, partition, creation."""
        ...

    def delete_subscription(self, vendor: str, external_id: str) -> bool:
        """False when there was no such row."""
        ...

    # --- freshness ---------------------------------------------------------------------------
    def change_stats(self, connector: str, stream: str | None, since: datetime) -> ChangeStats:
        """Lag and webhook coverage of the connector's records changed since ``since``."""
        ...
