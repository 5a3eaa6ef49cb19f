"""Coalescing: the deliveries pending for one partition share one fetch and one commit.

Without it, every delivery for a partition took the partition's lease and fetched its own
ids, one after the other: a queue of one vendor call, one commit and four store writes
per delivery. Here each partition has one drainer task. The first delivery starts a
fetch at once; while a fetch is in flight, the hints of other deliveries for the same
partition gather, and the next fetch takes all of them (up to ``max_ids`` ids, one
``get_many``; Jira answers 100 ids in one search) and commits them in one transaction
(:func:`~app.webhooks.targeted.commit_mentions`: under the lease, each record with the
lineage of the delivery that named it).

:meth:`Coalescer.apply` returns only once the commit holding the delivery's records is
done, so a delivery is never marked done before its records are durable. A failed batch
fails each of its deliveries (each is then retried or dead-lettered on its own); when
the error may be one delivery's fault (anything but a transient or configuration error),
each delivery of the batch is first tried alone, so one bad delivery does not fail the
others.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from app.connectors.base import Connector, WebhookHint
from app.errors import ErrorClass, classify
from app.storage.protocol import CursorKey, Store
from app.sync.runs import Clock
from app.webhooks.targeted import AppliedCounts, Mention, commit_mentions, split_by_partition, stream_kind

__all__ = ["Coalescer"]

log = structlog.get_logger(__name__)


@dataclass
class _Pending:
    mention: Mention
    connector: Connector
    done: asyncio.Future[AppliedCounts] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def ids(self) -> set[str]:
        return {*self.mention.hint.external_ids, *self.mention.hint.deleted_ids}


class Coalescer:
    """Per-partition queues of pending hints, each drained by one task, one batch at a time.

    ``slots`` bounds how many partitions fetch at once (shared with the caller's other
    vendor work if it passes its own semaphore). ``owner`` holds the partition leases.
    """

    def __init__(
        self,
        store: Store,
        *,
        owner: str,
        clock: Clock,
        lease_ttl_s: float,
        slots: asyncio.Semaphore,
        max_ids: int = 100,
    ) -> None:
        self._store = store
        self._owner = owner
        self._clock = clock
        self._lease_ttl_s = lease_ttl_s
        self._slots = slots
        self._max_ids = max_ids
        self._queues: dict[CursorKey, deque[_Pending]] = {}
        self._drainers: dict[CursorKey, asyncio.Task[None]] = {}

    async def apply(
        self, connector: Connector, hint: WebhookHint, *, lineage: str, received_at: datetime
    ) -> AppliedCounts:
        """Fetch and write what ``hint`` names, with the other pending hints of its partition(s).

        Returns once the commit holding these records is done; raises what the batch raised
        (:class:`~app.webhooks.targeted.PartitionBusy`, the connector's errors). Cancelling
        the caller withdraws its hint if its batch has not started (the others go on).
        """
        stream_kind(connector, hint.stream)  # an unknown stream fails this delivery alone
        waits: list[asyncio.Future[AppliedCounts]] = []
        for part in await split_by_partition(self._store, connector, hint):
            key = CursorKey(connector.name, hint.stream, part.partition)
            pending = _Pending(Mention(part, lineage, received_at), connector)
            self._queues.setdefault(key, deque()).append(pending)
            if key not in self._drainers:
                # A fresh context: the drainer serves every delivery of the partition, so it must
                # not log with the bound delivery id of the one that happened to start it.
                self._drainers[key] = asyncio.create_task(
                    self._drain(key), name=f"coalesce:{key}", context=contextvars.Context()
                )
            waits.append(pending.done)
        counts = AppliedCounts()
        try:
            for wait in waits:
                counts.merge(await wait)
        except BaseException:
            for wait in waits:
                wait.cancel()  # this delivery fails as a whole: withdraw its other hints
            raise
        return counts

    @property
    def waiting(self) -> int:
        """Hints queued and not yet in a batch (cancelled ones included until a batch drops them)."""
        return sum(len(queue) for queue in self._queues.values())

    async def close(self) -> None:
        """Stop the drainers (the processor is stopping); their deliveries' claims lapse."""
        drainers = list(self._drainers.values())
        for task in drainers:
            task.cancel()
        await asyncio.gather(*drainers, return_exceptions=True)

    # --- draining ------------------------------------------------------------------------------

    async def _drain(self, key: CursorKey) -> None:
        queue = self._queues[key]
        batch: list[_Pending] = []
        try:
            while queue:
                async with self._slots:
                    # Taken once a slot is free: whatever gathered while waiting goes in too.
                    batch = self._take(queue)
                    if batch:
                        await self._run(key, batch)
                    batch = []
        except BaseException as exc:  # cancelled (shutdown) or a bug: no delivery waits forever
            for pending in [*batch, *queue]:
                if not pending.done.done():
                    pending.done.set_exception(
                        exc if isinstance(exc, Exception) else RuntimeError("the inbox processor stopped")
                    )
            queue.clear()
            raise
        finally:
            # No await between the last look at the queue and here: a hint enqueued after it
            # starts a new drainer.
            del self._drainers[key]
            if not queue:
                del self._queues[key]

    def _take(self, queue: deque[_Pending]) -> list[_Pending]:
        """The next batch: the oldest pending hints (of one connector object) up to ``max_ids`` ids.

        A hint whose caller gave up (cancelled) is dropped; the first hint is always taken,
        however many ids it names.
        """
        batch: list[_Pending] = []
        ids: set[str] = set()
        while queue:
            head = queue[0]
            if head.done.done():
                queue.popleft()
                continue
            more = head.ids - ids
            if batch and (head.connector is not batch[0].connector or len(ids) + len(more) > self._max_ids):
                break
            batch.append(queue.popleft())
            ids |= more
        return batch

    async def _run(self, key: CursorKey, batch: list[_Pending]) -> None:
        connector = batch[0].connector
        try:
            applied = await commit_mentions(
                self._store, connector, stream_kind(connector, key.stream), key, [p.mention for p in batch],
                owner=self._owner, clock=self._clock, lease_ttl_s=self._lease_ttl_s,
            )
        except Exception as exc:
            if len(batch) > 1 and classify(exc) is ErrorClass.INTERNAL:
                log.warning("inbox.batch_split", partition=key.partition, deliveries=len(batch),
                            error=repr(exc))
                for pending in batch:
                    await self._run(key, [pending])
                return
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        total = AppliedCounts()
        for pending, counts in zip(batch, applied, strict=True):
            total.merge(counts)
            if not pending.done.done():
                pending.done.set_result(counts)
        log.info(
            "inbox.applied", connector=key.connector, stream=key.stream, partition=key.partition,
            deliveries=len(batch), created=total.created, updated=total.updated, deleted=total.deleted,
            unchanged=total.unchanged, failed=total.failed,
        )
