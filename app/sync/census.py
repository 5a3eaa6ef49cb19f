"""The census: list a partition's live ids to infer deletes the change feed never reported.

The mass-delete guard is the safety rail: a census that lists nothing while the hub
holds live records (lost access, a wrong filter, a vendor outage answering ``[]``),
or that would remove more than ``mass_delete_share`` of a partition of at least
``mass_delete_min_items`` records, deletes nothing and flags the run
``suspicious_mass_delete``; an admin then looks before anything is lost.

What it held back is stored per partition (:mod:`app.storage.held`). When the deletes are
real (a project was cleaned up, a calendar emptied on purpose), the admin approves up to
that many (``POST /api/pairs/{id}/held-deletes/approve``); the next run counts the partition
again and deletes what vanished if it is still at most the approved number. More than that
(the source kept losing items) is held again, with the approval kept for the admin to see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog

from app.connectors.base import RefBatch
from app.connectors.common import RetryPolicy, with_retries
from app.errors import ConfigError, RecordNotFound
from app.models import DeleteReason, Tombstone, hub_id_for
from app.settings import PairSettings, SyncSettings
from app.storage.protocol import CursorKey, HeldDeletes, RunRecord, Store
from app.sync.derive import forget_records
from app.sync.pairs import Endpoint
from app.sync.runs import Clock, cursor_label

__all__ = ["CensusVerdict", "approve_held_deletes", "judge_census", "run_census"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CensusVerdict:
    """Which hub records vanished from the source, and whether deleting them is safe."""

    missing: tuple[str, ...]
    suspicious: bool
    reason: str = ""


def judge_census(hub_live: Collection[str], listed: Collection[str], settings: SyncSettings) -> CensusVerdict:
    """Pure: compare the hub's live ids of a partition with the ids the source listed."""
    listed_set = set(listed)
    missing = tuple(sorted(i for i in hub_live if i not in listed_set))
    if hub_live and not listed_set:
        return CensusVerdict(missing, True, f"the source lists nothing while the hub holds {len(hub_live)}")
    share = len(missing) / len(hub_live) if hub_live else 0.0
    if len(hub_live) >= settings.mass_delete_min_items and share > settings.mass_delete_share:
        return CensusVerdict(
            missing, True,
            f"{len(missing)} of {len(hub_live)} records ({share:.0%}) would vanish; "
            f"the limit is {settings.mass_delete_share:.0%}",
        )
    return CensusVerdict(missing, False)


async def _list_ids(endpoint: Endpoint, partition: str, run: RunRecord, retry: RetryPolicy) -> set[str]:
    async def listing() -> set[str]:
        ids: set[str] = set()
        async for batch in endpoint.connector.list_refs(endpoint.stream, partition):
            run.api_calls += batch.api_calls if isinstance(batch, RefBatch) else 1
            ids.update(ref.external_id for ref in batch)
        return ids

    return await with_retries(listing, retry, what=f"{endpoint.name}.list_refs")


def _tombstone_missing(store: Store, endpoint: Endpoint, missing: Mapping[str, str], tombstone: Tombstone,
                       run_id: str) -> int:
    deleted = 0
    with store.transaction() as tx:
        for hub_id in missing.values():
            if tx.tombstone_record(hub_id, tombstone, run_id):
                deleted += 1
        forget_records(tx, sorted(missing.values()))
    return deleted


async def run_census(
    store: Store, endpoint: Endpoint, partition: str, *, run: RunRecord, settings: SyncSettings,
    retry: RetryPolicy, clock: Clock, read_started_at: datetime | None = None,
) -> bool:
    """Census one partition and tombstone what vanished, unless the guard trips. True when it tripped.

    ``read_started_at``: when the full read this census follows began, if it ran from its
    first page in this process. Every record that read delivered was written after that
    instant; only a record written at or before it can have vanished unseen. When the hub
    holds none (a first backfill), there is nothing to judge and the id listing is not made.
    (A frozen or coarse clock errs toward listing: "at or before" includes equal instants.)
    """
    if read_started_at is not None:
        older = await asyncio.to_thread(store.live_refs, endpoint.name, endpoint.stream, partition,
                                        read_started_at)
        if not older:
            log.info("sync.census.skipped", reason="no record older than the full read")
            return False
    listed = await _list_ids(endpoint, partition, run, retry)
    hub_live = await asyncio.to_thread(store.live_refs, endpoint.name, endpoint.stream, partition)
    verdict = judge_census(hub_live.keys(), listed, settings)
    key = endpoint.key(partition)
    label = cursor_label(key)
    held = await asyncio.to_thread(store.held_deletes, key)
    if verdict.suspicious:
        approved = held.approved_up_to if held is not None else None
        if approved is None or len(verdict.missing) > approved:
            await asyncio.to_thread(store.hold_deletes, key, len(verdict.missing), verdict.reason)
            run.flags.append(f"suspicious_mass_delete:{label}")
            log.warning("sync.census.suspicious_mass_delete", reason=verdict.reason,
                        missing=len(verdict.missing), approved_up_to=approved)
            return True
        run.flags.append(f"mass_delete_approved:{label}")
        log.warning("sync.census.approved_mass_delete", reason=verdict.reason,
                    missing=len(verdict.missing), approved_up_to=approved)
    if verdict.missing:
        tombstone = Tombstone(deleted_at=clock(), reason=DeleteReason.DELETED)
        by_hub = {ext: hub_id_for(endpoint.name, endpoint.stream, ext) for ext in verdict.missing}
        deleted = await asyncio.to_thread(_tombstone_missing, store, endpoint, by_hub, tombstone, run.run_id)
        run.deleted += deleted
        log.info("sync.census.deleted", deleted=deleted)
    if held is not None:
        # Released only after the deletes committed: a crash before leaves the approval for the next census.
        await asyncio.to_thread(store.release_held_deletes, key)
    return False


def approve_held_deletes(store: Store, pair: PairSettings, key: CursorKey, up_to: int | None = None) -> HeldDeletes:
    """An admin's approval of the deletes held back in ``key``, a partition ``pair`` pulls: the next
    census there deletes what vanished if it is at most ``up_to`` (default: as many as were held).

    ``ConfigError`` when the pair does not pull that stream; ``RecordNotFound`` when nothing is held.
    """
    if (key.connector, key.stream) not in pair.pulled_streams():
        raise ConfigError(f"pair {pair.id!r} does not pull {key.connector}/{key.stream}")
    if up_to is not None and up_to < 1:
        raise ConfigError(f"up_to must be at least 1, not {up_to}")
    held = store.held_deletes(key)
    approved = store.approve_held_deletes(key, up_to if up_to is not None else held.missing) if held else None
    if approved is None:  # never held, or a census released it meanwhile
        raise RecordNotFound(f"nothing is held back in {cursor_label(key)}")
    return approved
