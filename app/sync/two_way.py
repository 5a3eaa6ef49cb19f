"""Sync a two-way pair: finish leftover writes, plan against the baseline, queue, push.

1. The pair's writes still pending from earlier runs (a crash, a transient failure) are
   pushed first, before anything is planned: a create that reached the tool before a
   crash must be adopted (same idempotency key), or the plan would see its result as a
   new item on that side and mirror it back.
2. Plan (:mod:`app.sync.plan`) from the pulled records and the baseline; steps that touch
   an item a write still owns are held back to the next run (:func:`~app.sync.outbox.hold_back`).
3. In ONE transaction: apply the baseline-only steps and queue every write
   (:mod:`app.sync.outbox`).
4. Push the queued writes one by one (:mod:`app.sync.push`); each records its result
   and closes its row in one transaction.

Each write is conditional on the version the hub last read (``if_version``) and carries
the pair's origin marker. A failed write is counted as failed and leaves the baseline
untouched; a ``ConfigError`` propagates and fails the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from app.models import Record
from app.storage.protocol import BaselineRow, OutboxItem, RunRecord, Store, Transaction
from app.sync.outbox import LOCAL_ACTIONS, OutboxWrite, hold_back, idempotency_key, write_for
from app.sync.pairs import Endpoint, ResolvedPair
from app.sync.plan import Action, Step, plan_two_way
from app.sync.push import Pusher, PushOutcome, origin_marker
from app.sync.runs import Clock

__all__ = ["origin_marker", "sync_two_way"]

log = structlog.get_logger(__name__)


def _in_scope(store: Store, end: Endpoint) -> dict[str, Record]:
    scope = set(end.partitions)
    return {r.source.external_id: r for r in store.iter_records(end.name, end.stream, include_deleted=True)
            if r.source.partition in scope}


def _row(pair_id: str, a: Record, b: Record, clock: Clock) -> BaselineRow:
    return BaselineRow(pair_id, a.source.external_id, b.source.external_id, a.source_version,
                       a.content_hash, b.source_version, b.content_hash, clock())


def _record_plan(store: Store, pair: ResolvedPair, steps: Sequence[Step], clock: Clock) -> int:
    """Apply the baseline-only steps and queue the writes, in one transaction; returns writes queued
    (a write already queued or applied under the same key is not queued twice; a dead one is revived)."""
    assert pair.target is not None
    queued = 0
    with store.transaction() as tx:
        for step in steps:
            if step.action in LOCAL_ACTIONS:
                _apply_local(tx, pair.id, step, clock)
                continue
            write = write_for(step, pair.source, pair.target)
            assert write is not None
            key = idempotency_key(pair.id, write)
            if tx.enqueue_outbox(pair.id, _end(pair, write).name, _end(pair, write).stream, write.operation, key,
                                 write.to_payload()) or tx.outbox_revive(key):
                queued += 1
            else:
                log.info("sync.outbox.already_queued", operation=write.operation, to=write.to, key=key)
    return queued


def _end(pair: ResolvedPair, write: OutboxWrite) -> Endpoint:
    if write.to == "a":
        return pair.source
    assert pair.target is not None
    return pair.target


def _apply_local(tx: Transaction, pair_id: str, step: Step, clock: Clock) -> None:
    if step.action is Action.FORGET:
        assert step.row is not None
        tx.delete_baseline(pair_id, step.row.a_id)
    else:
        assert step.a is not None and step.b is not None
        tx.put_baseline(_row(pair_id, step.a, step.b, clock))


def _stopping(stop: asyncio.Event | None, run: RunRecord) -> bool:
    if stop is not None and stop.is_set():
        if "stopped" not in run.flags:
            run.flags.append("stopped")
        return True
    return False


async def _push_all(pusher: Pusher, items: Sequence[OutboxItem], *, leftover: bool,
                    stop: asyncio.Event | None) -> list[OutboxWrite] | None:
    """Push ``items`` in order; the writes left unsettled (to retry, or dead), or None when asked to stop.

    A write that just went dead holds its items for the rest of this run too: a later run's plan
    may ask for it again (which revives it), so a vendor outage heals without an admin.
    """
    unsettled: list[OutboxWrite] = []
    for item in items:
        if _stopping(stop, pusher.run):
            return None
        outcome = await pusher.push(item, leftover=leftover)
        if outcome in (PushOutcome.RETRY, PushOutcome.DEAD):
            unsettled.append(OutboxWrite.from_payload(item.payload))
    return unsettled


async def sync_two_way(
    store: Store, pair: ResolvedPair, *, run: RunRecord, clock: Clock, stop: asyncio.Event | None,
) -> None:
    """Finish leftovers, plan, queue and push (the sides are already pulled; the caller holds the
    pair's lease, which makes this run the only one allowed to work the pair's outbox)."""
    assert pair.target is not None
    pusher = Pusher(store, pair, run, clock)
    leftovers = await asyncio.to_thread(store.outbox_claim_pair, pair.id, run.run_id)
    if leftovers:
        log.info("sync.outbox.leftovers", count=len(leftovers))
    pending = await _push_all(pusher, leftovers, leftover=True, stop=stop)
    if pending is None:
        return
    a_records = await asyncio.to_thread(_in_scope, store, pair.source)
    b_records = await asyncio.to_thread(_in_scope, store, pair.target)
    baseline = await asyncio.to_thread(store.baseline, pair.id)
    steps, held = hold_back(plan_two_way(a_records, b_records, baseline, pair.settings.conflict_policy), pending)
    if held:
        run.flags.append(f"two_way_held:{len(held)}")
        log.info("sync.two_way.held_back", steps=len(held), pending_writes=len(pending))
    if _stopping(stop, run):
        return
    queued = await asyncio.to_thread(_record_plan, store, pair, steps, clock)
    if not queued:
        return
    seen = {item.id for item in leftovers}
    claimed = await asyncio.to_thread(store.outbox_claim_pair, pair.id, run.run_id)
    await _push_all(pusher, [item for item in claimed if item.id not in seen], leftover=False, stop=stop)
