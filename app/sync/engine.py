"""``run_sync``: one run of one pair. The scheduler, the webhooks and the CLI only call this.

Order of work: save the run as ``running``; resolve the pair; pull every partition
of every side read into the hub (each under its own lease, page by page, see
:mod:`app.sync.pull`); for a two-way pair, plan and apply against the baseline
(under the pair's lease, and only when every side was pulled cleanly); save the run
with its status.

Statuses: ``failed`` (config errors and bugs stop the run at once; a transient failure
fails its partition, the others go on, and the two-way phase is skipped),
``suspicious_mass_delete`` (the census guard tripped: nothing was deleted),
``skipped`` (every partition was leased by another runner), else ``succeeded``.
A run asked to ``stop`` ends after the page it is on, flagged ``stopped``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import structlog

from app.connectors.base import Capability, Connector
from app.connectors.common import RetryPolicy
from app.errors import ErrorClass, classify
from app.settings import PairSettings, SyncSettings
from app.storage.protocol import RunRecord, RunStatus, Store
from app.sync.leases import RunLeases, pair_lease_name
from app.sync.pairs import ResolvedPair, resolve_pair
from app.sync.partitions import PartitionCache
from app.sync.pull import PartitionResult, PullContext, pull_partition
from app.sync.runs import CENSUS_FLAG, Clock, fail_run, start_run, utc_now
from app.sync.two_way import sync_two_way

__all__ = ["run_sync"]

log = structlog.get_logger(__name__)


def _flag(run: RunRecord, flag: str) -> None:
    if flag not in run.flags:
        run.flags.append(flag)


async def _census_due(store: Store, pair: ResolvedPair, run: RunRecord, settings: SyncSettings) -> bool:
    """True when none of the pair's previous ``census_every_runs - 1`` runs did a census."""
    if not any(Capability.CENSUS in end.connector.capabilities for end in pair.pulled):
        return False
    window = settings.census_every_runs - 1
    if window <= 0:
        return True
    recent = await asyncio.to_thread(store.list_runs, pair.id, None, window + 1)
    previous = [r for r in recent if r.run_id != run.run_id][:window]
    return not any(CENSUS_FLAG in r.flags for r in previous)


async def _pull_all(ctx: PullContext, pair: ResolvedPair, full: bool) -> list[PartitionResult]:
    results: list[PartitionResult] = []
    for end in pair.pulled:
        census_capable = Capability.CENSUS in end.connector.capabilities
        # A partition whose held-back deletes an admin approved is counted again in this run,
        # even when no census is due: the approval is what the admin waits on.
        held = await asyncio.to_thread(ctx.store.list_held_deletes, end.name)
        approved = {h.key for h in held if h.key.stream == end.stream and h.approved_up_to is not None}
        for partition in end.partitions:
            if ctx.stopping:
                results.append(PartitionResult.STOPPED)
                return results
            census_due = (ctx.census_due or end.key(partition) in approved) and census_capable
            sub = PullContext(ctx.store, ctx.run, ctx.settings, ctx.clock, ctx.retry, ctx.leases, ctx.stop,
                              census_due=census_due, progress=ctx.progress)
            results.append(await pull_partition(sub, end, partition, full=full))
    return results


async def _two_way(ctx: PullContext, pair: ResolvedPair, results: list[PartitionResult]) -> None:
    if any(r not in (PartitionResult.DONE, PartitionResult.SUSPICIOUS) for r in results):
        _flag(ctx.run, "two_way_skipped:incomplete_pull")
        return
    lease = pair_lease_name(pair.id)
    if not await ctx.leases.acquire(lease):
        _flag(ctx.run, "two_way_skipped:lease_held")
        return
    try:
        await sync_two_way(ctx.store, pair, run=ctx.run, clock=ctx.clock, stop=ctx.stop)
    finally:
        await ctx.leases.release(lease)


def _final_status(run: RunRecord, results: list[PartitionResult]) -> RunStatus:
    if run.status is RunStatus.FAILED:
        return RunStatus.FAILED
    if results and all(r is PartitionResult.SKIPPED for r in results):
        return RunStatus.SKIPPED
    if PartitionResult.SUSPICIOUS in results:
        return RunStatus.SUSPICIOUS_MASS_DELETE
    return RunStatus.SUCCEEDED


async def _execute(ctx: PullContext, pair_settings: PairSettings, connectors: Mapping[str, Connector],
                   full: bool, partitions: PartitionCache | None) -> None:
    run = ctx.run
    pair = await resolve_pair(pair_settings, connectors, ctx.retry, partitions=partitions, refresh=full)
    ctx.census_due = await _census_due(ctx.store, pair, run, ctx.settings)
    results = await _pull_all(ctx, pair, full)
    if pair.two_way and not ctx.stopping:
        await _two_way(ctx, pair, results)
    if ctx.stopping:
        _flag(run, "stopped")
    run.status = _final_status(run, results)


async def run_sync(
    pair: PairSettings,
    connectors: Mapping[str, Connector],
    store: Store,
    *,
    trigger: str,
    full: bool = False,
    settings: SyncSettings,
    clock: Clock = utc_now,
    stop: asyncio.Event | None = None,
    retry: RetryPolicy | None = None,
    progress: Callable[[RunRecord], None] | None = None,
    partitions: PartitionCache | None = None,
) -> RunRecord:
    """Run ``pair`` once and return its run record (also saved in ``store``, at start and at end).

    ``connectors`` maps configured names to entered connectors. ``full`` ignores stored
    cursors and re-reads everything, then infers deletes by census. ``retry`` paces
    transient failures (default :class:`RetryPolicy`). ``progress`` sees the run after every
    committed page; the running counts are also saved every few seconds. ``partitions``
    remembers partition listings between runs (a full run lists afresh). Never raises for a failed sync:
    the run record says what failed; only cancellation propagates (the run is saved
    as failed first).
    """
    run = start_run(pair.id, trigger, full, clock)
    await asyncio.to_thread(store.save_run, run)
    leases = RunLeases(store, owner=run.run_id, ttl_s=settings.lease_ttl_s)
    ctx = PullContext(store, run, settings, clock, retry or RetryPolicy(), leases, stop, progress=progress)
    with structlog.contextvars.bound_contextvars(run_id=run.run_id, pair=pair.id):
        log.info("sync.run.started", trigger=trigger, full=full)
        try:
            await _execute(ctx, pair, connectors, full, partitions)
        except asyncio.CancelledError:
            fail_run(run, ErrorClass.TRANSIENT, "cancelled")
            run.finished_at = clock()
            store.save_run(run)  # in this thread: the task is being cancelled, awaiting is not safe
            raise
        except Exception as exc:
            error_class = classify(exc)
            fail_run(run, error_class, f"{type(exc).__name__}: {exc}")
            log_method = log.error if error_class is ErrorClass.INTERNAL else log.warning
            log_method("sync.run.failed", error_class=error_class.value, error=str(exc),
                       exc_info=error_class is ErrorClass.INTERNAL)
        run.finished_at = clock()
        await asyncio.to_thread(store.save_run, run)
        log.info("sync.run.finished", status=run.status.value, created=run.created, updated=run.updated,
                 deleted=run.deleted, unchanged=run.unchanged, failed=run.failed, api_calls=run.api_calls,
                 duration_s=run.duration_s)
    return run
