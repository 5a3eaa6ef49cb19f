"""Push: make one queued write in a tool, then record its result and close it in ONE transaction.

The written side's hub record is stored with the content and version the write produced
and the baseline moves to the new state, so the next pull sees our own write as
unchanged and never echoes it back. Because the close is in the same transaction, a
crash between the write and the commit leaves the row pending and the next run re-sends
it (see :mod:`app.sync.outbox` for why that never duplicates).

Outcomes: ``applied``; ``superseded`` (``PreconditionFailed``, ``RecordNotFound`` on an
update, ``SkippableRecord``: the write is dropped and the next plan decides from fresher
data); ``retry`` (transient: pending for the next run); ``dead`` (transient
:data:`~app.sync.outbox.MAX_ATTEMPTS` times). A ``ConfigError`` or a bug propagates and
fails the run; the row stays pending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog

from app.connectors.base import WriteResult
from app.errors import PreconditionFailed, RecordNotFound, SkippableRecord, TransientError
from app.models import AnyBody, DeleteReason, LinkKind, Record, Tombstone, content_hash
from app.storage.protocol import BaselineRow, OutboxItem, RunRecord, Store, Transaction
from app.sync.derive import derive_records, forget_records
from app.sync.outbox import MAX_ATTEMPTS, OutboxWrite, Side, Snapshot
from app.sync.pairs import Endpoint, ResolvedPair
from app.sync.prepare import build_record
from app.sync.runs import Clock

__all__ = ["PushOutcome", "Pusher", "origin_marker"]

log = structlog.get_logger(__name__)


def origin_marker(pair_id: str) -> str:
    """The marker the hub leaves on what it writes, so a tool's change feed can tell our writes apart."""
    return f"passerelle:{pair_id}"


class PushOutcome(StrEnum):
    APPLIED = "applied"
    SUPERSEDED = "superseded"
    RETRY = "retry"
    DEAD = "dead"


def _commit(store: Store, writes: Callable[[Transaction], None]) -> None:
    with store.transaction() as tx:
        writes(tx)


@dataclass
class Pusher:
    """Carries out the queued writes of one pair for one run."""

    store: Store
    pair: ResolvedPair
    run: RunRecord
    clock: Clock

    @property
    def origin(self) -> str:
        return origin_marker(self.pair.id)

    def _end(self, side: Side) -> Endpoint:
        if side == "a":
            return self.pair.source
        assert self.pair.target is not None
        return self.pair.target

    async def _save(self, writes: Callable[[Transaction], None]) -> None:
        await asyncio.to_thread(_commit, self.store, writes)

    # --- recording a result ----------------------------------------------------------------

    async def _written(self, end: Endpoint, partition: str, result: WriteResult, body: AnyBody,
                       before: Record | None) -> tuple[Record, Record | None]:
        """(what the hub should hold, or None to keep the pulled record) and the record to upsert.

        A record the pull already read at the version the write answered is the tool's truth at
        that version: it is kept. An adopted create not seen yet is stored without a version, so
        the next pull reads its content afresh (edits made since the first attempt are not lost).
        """
        now = self.clock()
        made = build_record(
            connector=end.name, system=end.connector.system, stream=end.stream, kind=end.spec.kind,
            partition=partition, external_id=result.external_id,
            version=None if result.adopted else result.version, body=body, fetched_at=now, raw=result.raw,
            created_at=before.created_at if before else now, updated_at=now,
            url=before.source.url if before else None,
        )
        pulled = await asyncio.to_thread(self.store.get_record, made.hub_id)
        if pulled is not None and not pulled.deleted and result.version is not None \
                and pulled.source_version == result.version:
            return made, None
        return made, made

    def _row(self, write: OutboxWrite, source: Snapshot, result: WriteResult, body: AnyBody) -> BaselineRow:
        written = (result.external_id, result.version, content_hash(body))
        copied = (source.external_id, source.version, source.content_hash)
        (a_id, a_version, a_hash), (b_id, b_version, b_hash) = (
            (copied, written) if write.to == "b" else (written, copied))
        return BaselineRow(self.pair.id, a_id, b_id, a_version, a_hash, b_version, b_hash, self.clock())

    # --- the three operations --------------------------------------------------------------

    async def _create(self, item: OutboxItem, write: OutboxWrite, *, leftover: bool) -> None:
        end = self._end(write.to)
        assert write.body is not None and write.source is not None
        # A row that failed before, or that an earlier run left pending (it may have crashed after
        # the tool made the record), may already have its record: a tool without idempotent creates
        # looks for it by the key before making another.
        tried = item.created_at if leftover or item.attempts > 0 else None
        result = await end.connector.create(end.stream, write.partition, write.body, self.origin,
                                            idempotency_key=item.idempotency_key, earlier_attempt_since=tried)
        self.run.api_calls += 1
        made, upsert = await self._written(end, write.partition, result, write.body, None)
        row = self._row(write, write.source, result, write.body)
        a_hub, b_hub = (write.source.hub_id, made.hub_id) if write.to == "b" else (made.hub_id, write.source.hub_id)

        def writes(tx: Transaction) -> None:
            if upsert is not None:
                tx.upsert_record(upsert, self.run.run_id)
                derive_records(tx, [upsert])
            if write.old_a_id is not None and write.old_a_id != row.a_id:
                tx.delete_baseline(self.pair.id, write.old_a_id)
            tx.put_baseline(row)
            tx.put_link(a_hub, b_hub, LinkKind.MIRRORS.value, f"two_way:{self.pair.id}")
            tx.outbox_done(item.id)

        await self._save(writes)
        self.run.created += 1

    async def _update(self, item: OutboxItem, write: OutboxWrite) -> None:
        end = self._end(write.to)
        assert write.body is not None and write.source is not None
        assert write.target_id is not None and write.target_hub_id is not None
        target_hub_id = write.target_hub_id
        try:
            result = await end.connector.update(end.stream, write.target_id, write.body,
                                                if_version=write.if_version, origin=self.origin)
        except RecordNotFound as exc:
            # A fact, not an inference: record it so the next plan sees delete vs edit, even when a
            # census guard is holding inferred deletes back.
            gone = Tombstone(deleted_at=self.clock(), reason=DeleteReason.DELETED)
            reason = f"RecordNotFound: {exc}"

            def record_gone(tx: Transaction) -> None:
                tx.tombstone_record(target_hub_id, gone, self.run.run_id)
                forget_records(tx, [target_hub_id])
                tx.outbox_supersede(item.id, reason)

            await self._save(record_gone)
            raise
        self.run.api_calls += 1
        before = await asyncio.to_thread(self.store.get_record, target_hub_id)
        _, upsert = await self._written(end, write.partition, result, write.body, before)
        row = self._row(write, write.source, result, write.body)

        def writes(tx: Transaction) -> None:
            if upsert is not None:
                tx.upsert_record(upsert, self.run.run_id)
                derive_records(tx, [upsert])
            tx.put_baseline(row)
            tx.outbox_done(item.id)

        await self._save(writes)
        self.run.updated += 1

    async def _delete(self, item: OutboxItem, write: OutboxWrite) -> None:
        end = self._end(write.to)
        assert write.target_id is not None and write.target_hub_id is not None
        with contextlib.suppress(RecordNotFound):  # already gone: the goal is reached
            await end.connector.delete(end.stream, write.target_id, if_version=write.if_version)
        self.run.api_calls += 1
        tombstone = Tombstone(deleted_at=self.clock(), reason=DeleteReason.DELETED)
        target_hub_id, old_a_id = write.target_hub_id, write.old_a_id

        def writes(tx: Transaction) -> None:
            tx.tombstone_record(target_hub_id, tombstone, self.run.run_id)
            forget_records(tx, [target_hub_id])
            if old_a_id is not None:
                tx.delete_baseline(self.pair.id, old_a_id)
            tx.outbox_done(item.id)

        await self._save(writes)
        self.run.deleted += 1

    # --- entry point -------------------------------------------------------------------------

    async def push(self, item: OutboxItem, *, leftover: bool) -> PushOutcome:
        """Make ``item``'s write and record the outcome. ``leftover``: queued by an earlier run.

        A leftover that meets a stale precondition is not a failure of this run (its write most
        likely took effect before a crash, or the item moved on); the plan that follows decides.
        """
        write = OutboxWrite.from_payload(item.payload)
        try:
            match write.operation:
                case "create":
                    await self._create(item, write, leftover=leftover)
                case "update":
                    await self._update(item, write)
                case "delete":
                    await self._delete(item, write)
        except (PreconditionFailed, RecordNotFound, SkippableRecord) as exc:
            if not isinstance(exc, RecordNotFound):  # RecordNotFound already closed the row
                reason = f"{type(exc).__name__}: {exc}"
                await self._save(lambda tx: tx.outbox_supersede(item.id, reason))
            self.run.api_calls += 1
            if not leftover:
                self.run.failed += 1
            log.warning("sync.outbox.superseded", operation=write.operation, to=write.to, leftover=leftover,
                        error=type(exc).__name__, detail=str(exc))
            return PushOutcome.SUPERSEDED
        except TransientError as exc:
            self.run.api_calls += 1
            self.run.failed += 1
            dead = item.attempts + 1 >= MAX_ATTEMPTS
            retry_at: datetime | None = None if dead else self.clock()
            await asyncio.to_thread(self.store.outbox_failed, item.id, f"{type(exc).__name__}: {exc}", retry_at)
            log.warning("sync.outbox.write_failed", operation=write.operation, to=write.to,
                        attempts=item.attempts + 1, dead=dead, error=type(exc).__name__, detail=str(exc))
            return PushOutcome.DEAD if dead else PushOutcome.RETRY
        return PushOutcome.APPLIED
