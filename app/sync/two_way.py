"""Apply a two-way plan: write to the tools, then commit the item's baseline and hub record together.

Each write is conditional on the version the hub last read (``if_version``) and carries
the pair's origin marker. The hub record of the side written to is stored with the
content and version the write produced, and the baseline moves to the new state, so
the next pull sees our own write as unchanged and never echoes it back.

A write that fails (``PreconditionFailed``, transient, record gone, record refused) leaves
that item's baseline untouched and is counted as failed: the next run plans it again
from fresher data. A ``ConfigError`` propagates and fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from app.connectors.base import WriteResult
from app.errors import PreconditionFailed, RecordNotFound, SkippableRecord, TransientError
from app.models import AnyBody, DeleteReason, LinkKind, Record, Tombstone
from app.storage.protocol import BaselineRow, RunRecord, Store, Transaction
from app.sync.derive import derive_records, forget_records
from app.sync.pairs import Endpoint, ResolvedPair
from app.sync.plan import Action, Step, plan_two_way
from app.sync.prepare import build_record
from app.sync.runs import Clock

__all__ = ["origin_marker", "sync_two_way"]

log = structlog.get_logger(__name__)


def origin_marker(pair_id: str) -> str:
    """The marker the hub leaves on what it writes, so a tool's change feed can tell our writes apart."""
    return f"passerelle:{pair_id}"


def _in_scope(store: Store, end: Endpoint) -> dict[str, Record]:
    scope = set(end.partitions)
    return {r.source.external_id: r for r in store.iter_records(end.name, end.stream, include_deleted=True)
            if r.source.partition in scope}


def _commit(store: Store, writes: Callable[[Transaction], None]) -> None:
    with store.transaction() as tx:
        writes(tx)


@dataclass
class _Executor:
    store: Store
    pair: ResolvedPair
    a_end: Endpoint
    b_end: Endpoint
    run: RunRecord
    clock: Clock

    @property
    def origin(self) -> str:
        return origin_marker(self.pair.id)

    def _written(self, end: Endpoint, partition: str, result: WriteResult, body: AnyBody, now: datetime,
                 before: Record | None) -> Record:
        return build_record(
            connector=end.name, system=end.connector.system, stream=end.stream, kind=end.spec.kind,
            partition=partition, external_id=result.external_id, version=result.version, body=body,
            fetched_at=now, raw=result.raw, created_at=before.created_at if before else now, updated_at=now,
            url=before.source.url if before else None,
        )

    def _row(self, a: Record, b: Record) -> BaselineRow:
        return BaselineRow(self.pair.id, a.source.external_id, b.source.external_id, a.source_version,
                           a.content_hash, b.source_version, b.content_hash, self.clock())

    async def _save(self, writes: Callable[[Transaction], None]) -> None:
        await asyncio.to_thread(_commit, self.store, writes)

    async def _create(self, step: Step, to_b: bool) -> None:
        src = step.a if to_b else step.b
        end = self.b_end if to_b else self.a_end
        assert src is not None
        partition = end.counterpart_partition(src.source.partition)
        result = await end.connector.create(end.stream, partition, src.body, self.origin)
        self.run.api_calls += 1
        made = self._written(end, partition, result, src.body, self.clock(), None)
        a, b = (src, made) if to_b else (made, src)
        row = self._row(a, b)
        old = step.row

        def writes(tx: Transaction) -> None:
            tx.upsert_record(made, self.run.run_id)
            derive_records(tx, [made])
            if old is not None and old.a_id != row.a_id:
                tx.delete_baseline(self.pair.id, old.a_id)
            tx.put_baseline(row)
            tx.put_link(a.hub_id, b.hub_id, LinkKind.MIRRORS.value, f"two_way:{self.pair.id}")

        await self._save(writes)
        self.run.created += 1

    async def _update(self, step: Step, to_b: bool) -> None:
        src, dst = (step.a, step.b) if to_b else (step.b, step.a)
        end = self.b_end if to_b else self.a_end
        assert src is not None and dst is not None
        try:
            result = await end.connector.update(end.stream, dst.source.external_id, src.body,
                                                if_version=dst.source_version, origin=self.origin)
        except RecordNotFound:
            # A fact, not an inference: record it so the next plan sees delete vs edit, even when a
            # census guard is holding inferred deletes back.
            gone = Tombstone(deleted_at=self.clock(), reason=DeleteReason.DELETED)

            def record_gone(tx: Transaction) -> None:
                tx.tombstone_record(dst.hub_id, gone, self.run.run_id)
                forget_records(tx, [dst.hub_id])

            await self._save(record_gone)
            raise
        self.run.api_calls += 1
        made = self._written(end, dst.source.partition, result, src.body, self.clock(), dst)
        a, b = (src, made) if to_b else (made, src)
        row = self._row(a, b)

        def writes(tx: Transaction) -> None:
            tx.upsert_record(made, self.run.run_id)
            derive_records(tx, [made])
            tx.put_baseline(row)

        await self._save(writes)
        self.run.updated += 1

    async def _delete(self, step: Step, on_b: bool) -> None:
        dst = step.b if on_b else step.a
        end = self.b_end if on_b else self.a_end
        assert dst is not None and step.row is not None
        with contextlib.suppress(RecordNotFound):  # already gone: the goal is reached
            await end.connector.delete(end.stream, dst.source.external_id, if_version=dst.source_version)
        self.run.api_calls += 1
        tombstone = Tombstone(deleted_at=self.clock(), reason=DeleteReason.DELETED)
        a_id = step.row.a_id

        def writes(tx: Transaction) -> None:
            tx.tombstone_record(dst.hub_id, tombstone, self.run.run_id)
            forget_records(tx, [dst.hub_id])
            tx.delete_baseline(self.pair.id, a_id)

        await self._save(writes)
        self.run.deleted += 1

    async def execute(self, step: Step) -> None:
        match step.action:
            case Action.CREATE_B | Action.CREATE_A:
                await self._create(step, to_b=step.action is Action.CREATE_B)
            case Action.UPDATE_B | Action.UPDATE_A:
                await self._update(step, to_b=step.action is Action.UPDATE_B)
            case Action.DELETE_B | Action.DELETE_A:
                await self._delete(step, on_b=step.action is Action.DELETE_B)
            case Action.FORGET:
                assert step.row is not None
                a_id = step.row.a_id
                await self._save(lambda tx: tx.delete_baseline(self.pair.id, a_id))
            case Action.REFRESH:
                assert step.a is not None and step.b is not None
                row = self._row(step.a, step.b)
                await self._save(lambda tx: tx.put_baseline(row))


async def sync_two_way(
    store: Store, pair: ResolvedPair, *, run: RunRecord, clock: Clock, stop: asyncio.Event | None,
) -> None:
    """Plan the pair against its baseline and carry out every step (the sides are already pulled)."""
    assert pair.target is not None
    a_records = await asyncio.to_thread(_in_scope, store, pair.source)
    b_records = await asyncio.to_thread(_in_scope, store, pair.target)
    baseline = await asyncio.to_thread(store.baseline, pair.id)
    steps = plan_two_way(a_records, b_records, baseline, pair.settings.conflict_policy)
    executor = _Executor(store, pair, pair.source, pair.target, run, clock)
    for step in steps:
        if stop is not None and stop.is_set():
            run.flags.append("stopped")
            return
        try:
            await executor.execute(step)
        except (PreconditionFailed, TransientError, RecordNotFound, SkippableRecord) as exc:
            run.failed += 1
            if step.action not in (Action.FORGET, Action.REFRESH):
                run.api_calls += 1
            log.warning("sync.two_way.write_failed", action=step.action.value, error=type(exc).__name__,
                        detail=str(exc))
