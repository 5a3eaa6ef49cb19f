"""Targeted sync: bring the few records a webhook names up to date, with the engine's own rules.

It reuses the engine's prepare step (version + content hash decide what changed) and its
commit step (one transaction), so a record written here is exactly what a poll would
have written. The partition's sync lease is held meanwhile: a poll that read an older
version of the same records cannot commit it over a newer one written here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from app.connectors.base import Change, Connector, WebhookHint
from app.errors import TransientError
from app.models import DeleteReason, RecordKind, Tombstone, hub_id_for
from app.storage.protocol import CursorKey, Store
from app.sync.apply import commit_page
from app.sync.leases import partition_lease_name
from app.sync.prepare import Outcome, prepare_page
from app.sync.runs import Clock

__all__ = ["AppliedCounts", "PartitionBusy", "PartitionLocks", "apply_hint"]


class PartitionBusy(TransientError):
    """Another runner holds the partition's lease: try again shortly (never a dead letter)."""


@dataclass
class AppliedCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


async def _changes(connector: Connector, hint: WebhookHint, received_at: datetime) -> list[Change]:
    changes: list[Change] = []
    if hint.external_ids:
        changes.extend(await connector.get_many(hint.stream, list(hint.external_ids)))
    for gone in hint.deleted_ids:
        # The delivery was verified: the vendor itself says the record is gone.
        changes.append(
            Change(gone, None, tombstone=Tombstone(deleted_at=received_at, reason=DeleteReason.DELETED))
        )
    return changes


class PartitionLocks:
    """One asyncio lock per partition: deliveries for the same partition take turns in a process."""

    def __init__(self) -> None:
        self._locks: dict[CursorKey, asyncio.Lock] = {}

    def __call__(self, key: CursorKey) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


async def apply_hint(
    store: Store,
    connector: Connector,
    hint: WebhookHint,
    *,
    lineage: str,
    received_at: datetime,
    clock: Clock,
    lease_ttl_s: float,
    owner: str | None = None,
    locks: PartitionLocks | None = None,
) -> AppliedCounts:
    """Fetch and write the records ``hint`` names; ``lineage`` becomes their writer.

    A record the hub already holds keeps its partition when the hint names none. Each
    partition's records are fetched and committed while holding its sync lease (as
    ``owner``, default ``lineage``) and, with ``locks``, its in-process lock: a fetch is
    never committed over a newer one, by a poll or by another delivery. Raises
    :class:`PartitionBusy` when a sync holds a partition's lease, and whatever the
    connector raises (hub errors) for the fetch.
    """
    spec = next((s for s in connector.streams if s.name == hint.stream), None)
    if spec is None:
        raise ValueError(f"connector {connector.name!r} has no stream {hint.stream!r}")
    named = list(dict.fromkeys([*hint.external_ids, *hint.deleted_ids]))
    hub_ids = [hub_id_for(connector.name, hint.stream, ext) for ext in named]
    stored = await asyncio.to_thread(store.get_records, hub_ids) if hub_ids else {}
    by_partition: dict[str, list[str]] = defaultdict(list)
    for ext, hub_id in zip(named, hub_ids, strict=True):
        known = stored.get(hub_id)
        by_partition[hint.partition or (known.source.partition if known else "")].append(ext)
    counts = AppliedCounts()
    for partition, ids in by_partition.items():
        key = CursorKey(connector.name, hint.stream, partition)
        part = WebhookHint(
            connector=hint.connector, stream=hint.stream, partition=partition,
            external_ids=tuple(i for i in hint.external_ids if i in ids),
            deleted_ids=tuple(i for i in hint.deleted_ids if i in ids),
        )
        lock = locks(key) if locks is not None else contextlib.nullcontext()
        async with lock:
            outcomes = await _commit_leased(
                store, key, part, connector, spec.kind, lineage, owner or lineage, received_at, clock,
                lease_ttl_s,
            )
        for outcome in outcomes:
            counts.add(outcome)
    return counts


async def _commit_leased(
    store: Store,
    key: CursorKey,
    hint: WebhookHint,
    connector: Connector,
    kind: RecordKind,
    lineage: str,
    owner: str,
    received_at: datetime,
    clock: Clock,
    lease_ttl_s: float,
) -> list[Outcome]:
    lease = partition_lease_name(key)
    if not await asyncio.to_thread(store.acquire_lease, lease, owner, lease_ttl_s):
        raise PartitionBusy(f"a sync holds {key.connector}/{key.stream}/{key.partition}")
    try:
        # Fetch under the lease, then re-read what the hub holds: a sync or another delivery
        # may have committed these records meanwhile.
        changes = await _changes(connector, hint, received_at)
        current = await asyncio.to_thread(
            store.get_records, [hub_id_for(key.connector, key.stream, c.external_id) for c in changes]
        )
        prepared = prepare_page(
            changes,
            current,
            connector=connector.name,
            system=connector.system,
            stream=key.stream,
            kind=kind,
            partition=key.partition,
            fetched_at=clock(),
        )
        await asyncio.to_thread(commit_page, store, prepared, key=key, cursor_after=None, run_id=lineage)
        return [p.outcome for p in prepared]
    finally:
        await asyncio.to_thread(store.release_lease, lease, owner)
