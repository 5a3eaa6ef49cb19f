"""Targeted sync: bring the few records a webhook names up to date, with the engine's own rules.

It reuses the engine's prepare step (version + content hash decide what changed) and
commits in one transaction with the engine's derivation, so a record written here is
exactly what a poll would have written. The partition's sync lease is held meanwhile: a
poll that read an older version of the same records cannot commit it over a newer one
written here.

The unit of work is a list of :class:`Mention` (one delivery's hint for one partition):
:func:`commit_mentions` fetches the union of their ids in one ``get_many`` and commits
once, each record written with the lineage of the delivery that named it (see
:mod:`app.webhooks.coalesce`, which gathers the mentions). :func:`apply_hint` is the
same for a single delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
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

__all__ = [
    "AppliedCounts",
    "Mention",
    "PartitionBusy",
    "PartitionLocks",
    "apply_hint",
    "commit_mentions",
    "split_by_partition",
    "stream_kind",
]


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

    def merge(self, other: AppliedCounts) -> None:
        for outcome in Outcome:
            setattr(self, outcome.value, getattr(self, outcome.value) + getattr(other, outcome.value))


@dataclass(frozen=True)
class Mention:
    """One delivery's hint for ONE partition (``hint.partition`` resolved): what it names,
    the lineage its records get (``webhook:<source>:<delivery id>``), when it was received."""

    hint: WebhookHint
    lineage: str
    received_at: datetime


class PartitionLocks:
    """One asyncio lock per partition: deliveries for the same partition take turns in a process."""

    def __init__(self) -> None:
        self._locks: dict[CursorKey, asyncio.Lock] = {}

    def __call__(self, key: CursorKey) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


def stream_kind(connector: Connector, stream: str) -> RecordKind:
    spec = next((s for s in connector.streams if s.name == stream), None)
    if spec is None:
        raise ValueError(f"connector {connector.name!r} has no stream {stream!r}")
    return spec.kind


async def split_by_partition(store: Store, connector: Connector, hint: WebhookHint) -> list[WebhookHint]:
    """``hint`` cut into one hint per partition. A hint that names its partition is returned as is;
    otherwise a record the hub already holds keeps its partition (one store read)."""
    if hint.partition:
        return [hint]
    named = list(dict.fromkeys([*hint.external_ids, *hint.deleted_ids]))
    hub_ids = [hub_id_for(connector.name, hint.stream, ext) for ext in named]
    stored = await asyncio.to_thread(store.get_records, hub_ids) if hub_ids else {}
    by_partition: dict[str, set[str]] = defaultdict(set)
    for ext, hub_id in zip(named, hub_ids, strict=True):
        known = stored.get(hub_id)
        by_partition[known.source.partition if known else ""].add(ext)
    return [
        WebhookHint(
            connector=hint.connector, stream=hint.stream, partition=partition,
            external_ids=tuple(i for i in hint.external_ids if i in ids),
            deleted_ids=tuple(i for i in hint.deleted_ids if i in ids),
            delivery_id=hint.delivery_id,
        )
        for partition, ids in by_partition.items()
    ]


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
    kind = stream_kind(connector, hint.stream)
    counts = AppliedCounts()
    for part in await split_by_partition(store, connector, hint):
        key = CursorKey(connector.name, hint.stream, part.partition)
        lock = locks(key) if locks is not None else contextlib.nullcontext()
        async with lock:
            applied = await commit_mentions(
                store, connector, kind, key, [Mention(part, lineage, received_at)],
                owner=owner or lineage, clock=clock, lease_ttl_s=lease_ttl_s,
            )
        counts.merge(applied[0])
    return counts


async def commit_mentions(
    store: Store,
    connector: Connector,
    kind: RecordKind,
    key: CursorKey,
    mentions: Sequence[Mention],
    *,
    owner: str,
    clock: Clock,
    lease_ttl_s: float,
) -> list[AppliedCounts]:
    """Fetch what ``mentions`` name (all of ``key``'s partition) in one ``get_many`` and commit it
    in one transaction, under the partition's lease; returns each mention's counts, in order.

    A record's writer is the lineage of the LAST mention naming it (a tombstone: the last one
    naming it deleted), since the fetch shows that delivery's change; a mention's counts are
    the outcomes of the records credited to it. Deletions are applied after the fetched
    records, as for a single hint: a vendor-verified deletion is not undone by the same fetch.
    """
    lease = partition_lease_name(key)
    if not await asyncio.to_thread(store.acquire_lease, lease, owner, lease_ttl_s):
        raise PartitionBusy(f"a sync holds {key.connector}/{key.stream}/{key.partition}")
    try:
        # Fetch under the lease, then re-read what the hub holds: a sync or another delivery
        # may have committed these records meanwhile.
        changes, writers = await _changes(connector, key.stream, mentions)
        current = await asyncio.to_thread(
            store.stored_states, [hub_id_for(key.connector, key.stream, c.external_id) for c in changes]
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
        await asyncio.to_thread(commit_page, store, prepared, key=key, cursor_after=None,
                                run_id=mentions[-1].lineage, writers=writers)
    finally:
        await asyncio.to_thread(store.release_lease, lease, owner)
    by_lineage: dict[str, AppliedCounts] = defaultdict(AppliedCounts)
    for item, writer in zip(prepared, writers, strict=True):
        by_lineage[writer].add(item.outcome)
    first_of: dict[str, int] = {}
    for index, mention in enumerate(mentions):
        first_of.setdefault(mention.lineage, index)  # a delivery with two hints here: counted once
    return [
        by_lineage[m.lineage] if first_of[m.lineage] == index else AppliedCounts()
        for index, m in enumerate(mentions)
    ]


async def _changes(
    connector: Connector, stream: str, mentions: Sequence[Mention]
) -> tuple[list[Change], list[str]]:
    """The changes to prepare and, for each, the lineage to write it with."""
    fetch: dict[str, str] = {}  # external id -> lineage of the last mention naming it
    gone: dict[str, Mention] = {}
    for mention in mentions:
        for ext in mention.hint.external_ids:
            fetch[ext] = mention.lineage
        for ext in mention.hint.deleted_ids:
            gone[ext] = mention
    changes = await connector.get_many(stream, list(fetch)) if fetch else []
    last = mentions[-1].lineage
    writers = [fetch.get(c.external_id, last) for c in changes]
    for ext, mention in gone.items():
        # The delivery was verified: the vendor itself says the record is gone.
        changes.append(
            Change(ext, None, tombstone=Tombstone(deleted_at=mention.received_at, reason=DeleteReason.DELETED))
        )
        writers.append(mention.lineage)
    return changes, writers
