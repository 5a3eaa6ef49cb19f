"""Coalescing of a partition's webhook work: hints that gather while a fetch is in flight share
the next fetch and commit, each record keeps the lineage of the delivery that named it, and a
delivery is answered only by the commit that holds its records (real SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from app.connectors.base import Change, WebhookHint
from app.connectors.memory import MemoryConnector
from app.errors import TransientError
from app.models import WorkItem, hub_id_for
from app.settings import MemorySettings
from app.storage import SqlStore
from app.storage.protocol import CursorKey
from app.sync.leases import partition_lease_name
from app.webhooks.coalesce import Coalescer
from app.webhooks.targeted import AppliedCounts, PartitionBusy
from tests.waiting import eventually

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
PARTITION = "alpha"


@pytest.fixture
def store(any_store: SqlStore) -> SqlStore:
    return any_store


class GatedTool(MemoryConnector):
    """A memory tool whose ``get_many`` records each call and waits at a gate the test opens."""

    def __init__(self) -> None:
        super().__init__("tool", MemorySettings(items=0))
        self.fetched: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.poison: set[str] = set()
        self.fail_transiently = 0

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        self.fetched.append(list(ids))
        await self.gate.wait()
        if self.fail_transiently:
            self.fail_transiently -= 1
            raise TransientError("tool: 503")
        if self.poison & set(ids):
            raise ValueError("tool: cannot map one of these")
        return await super().get_many(stream, ids)


def _coalescer(store: SqlStore, max_ids: int = 100) -> Coalescer:
    return Coalescer(store, owner="inbox:test", clock=lambda: AT, lease_ttl_s=30,
                     slots=asyncio.Semaphore(4), max_ids=max_ids)


def _hint(fetch: Sequence[str] = (), deleted: Sequence[str] = ()) -> WebhookHint:
    return WebhookHint(connector="tool", stream="items", partition=PARTITION,
                       external_ids=tuple(fetch), deleted_ids=tuple(deleted))


def _apply(coalescer: Coalescer, tool: GatedTool, lineage: str, fetch: Sequence[str] = (),
           deleted: Sequence[str] = ()) -> asyncio.Task[AppliedCounts]:
    return asyncio.create_task(
        coalescer.apply(tool, _hint(fetch, deleted), lineage=lineage, received_at=AT)
    )


async def _held_first(coalescer: Coalescer, tool: GatedTool, lineage: str, fetch: Sequence[str]
                      ) -> asyncio.Task[AppliedCounts]:
    """Start a delivery and hold its fetch at the tool's gate: the deliveries after it gather."""
    before = len(tool.fetched)
    tool.gate.clear()
    first = _apply(coalescer, tool, lineage, fetch)
    await eventually(lambda: len(tool.fetched) == before + 1)
    return first


def _items(tool: GatedTool, count: int) -> list[str]:
    return [tool.add("items", PARTITION, WorkItem(key=f"ALPHA-{n}", title=f"Item {n}")) for n in range(count)]


def _lineage(store: SqlStore, external_id: str) -> str | None:
    return store.record_lineage(hub_id_for("tool", "items", external_id))


async def test_hints_that_gather_during_a_fetch_share_the_next_fetch_and_commit(store: SqlStore) -> None:
    tool = GatedTool()
    a, b, c, d = _items(tool, 4)
    coalescer = _coalescer(store)
    first = await _held_first(coalescer, tool, "webhook:test:d1", [a])
    rest = [_apply(coalescer, tool, f"webhook:test:d{n}", [x]) for n, x in ((2, b), (3, c), (4, d))]
    await eventually(lambda: coalescer.waiting == 3)
    assert not any(t.done() for t in [first, *rest])
    tool.gate.set()
    counts = await asyncio.gather(first, *rest)

    assert tool.fetched == [[a], [b, c, d]]
    assert [x.created for x in counts] == [1, 1, 1, 1]
    assert [_lineage(store, x) for x in (a, b, c, d)] == [f"webhook:test:d{n}" for n in (1, 2, 3, 4)]


async def test_a_delivery_is_answered_only_once_its_records_are_committed(store: SqlStore) -> None:
    tool = GatedTool()
    [a] = _items(tool, 1)
    tool.gate.clear()
    task = _apply(_coalescer(store), tool, "webhook:test:d1", [a])
    await eventually(lambda: len(tool.fetched) == 1)
    assert not task.done()
    assert store.get_record(hub_id_for("tool", "items", a)) is None
    tool.gate.set()
    await task
    assert store.get_record(hub_id_for("tool", "items", a)) is not None


async def test_a_record_named_by_two_deliveries_of_a_batch_is_written_once_by_the_last(store: SqlStore) -> None:
    tool = GatedTool()
    a, b = _items(tool, 2)
    coalescer = _coalescer(store)
    first = await _held_first(coalescer, tool, "webhook:test:d1", [b])
    older = _apply(coalescer, tool, "webhook:test:d2", [a])
    newer = _apply(coalescer, tool, "webhook:test:d3", [a])
    await eventually(lambda: coalescer.waiting == 2)
    tool.gate.set()
    _, counts_older, counts_newer = await asyncio.gather(first, older, newer)

    assert tool.fetched == [[b], [a]]
    assert _lineage(store, a) == "webhook:test:d3"
    assert (counts_older.created, counts_newer.created) == (0, 1)


async def test_a_deletion_in_a_batch_is_applied_after_the_fetch_with_its_own_lineage(store: SqlStore) -> None:
    tool = GatedTool()
    a, b, c = _items(tool, 3)
    coalescer = _coalescer(store)
    await asyncio.gather(_apply(coalescer, tool, "webhook:test:d0", [a, b, c]))
    tool.remove("items", c)
    first = await _held_first(coalescer, tool, "webhook:test:d1", [a])
    fetched = _apply(coalescer, tool, "webhook:test:d2", [b])
    deleted = _apply(coalescer, tool, "webhook:test:d3", deleted=[c])
    await eventually(lambda: coalescer.waiting == 2)
    tool.gate.set()
    counts = await asyncio.gather(first, fetched, deleted)

    assert tool.fetched[-1] == [b]  # one fetch for the batch; the deletion needs none
    gone = store.get_record(hub_id_for("tool", "items", c))
    assert gone is not None and gone.deleted and gone.tombstone is not None
    assert gone.tombstone.deleted_at == AT
    assert _lineage(store, c) == "webhook:test:d3"
    assert counts[2].deleted == 1


async def test_a_batch_holds_at_most_max_ids_ids(store: SqlStore) -> None:
    tool = GatedTool()
    ids = _items(tool, 6)
    coalescer = _coalescer(store, max_ids=2)
    first = await _held_first(coalescer, tool, "webhook:test:d0", ids[:1])
    rest = [_apply(coalescer, tool, f"webhook:test:d{n}", [ids[n]]) for n in range(1, 6)]
    await eventually(lambda: coalescer.waiting == 5)
    tool.gate.set()
    await asyncio.gather(first, *rest)
    assert tool.fetched == [ids[:1], ids[1:3], ids[3:5], ids[5:]]


async def test_a_transient_failure_fails_every_delivery_of_the_batch_and_writes_nothing(store: SqlStore) -> None:
    tool = GatedTool()
    a, b, c = _items(tool, 3)
    coalescer = _coalescer(store)
    first = await _held_first(coalescer, tool, "webhook:test:d1", [a])
    tool.fail_transiently = 1
    second = _apply(coalescer, tool, "webhook:test:d2", [b])
    third = _apply(coalescer, tool, "webhook:test:d3", [c])
    await eventually(lambda: coalescer.waiting == 2)
    tool.gate.set()
    # The first fetch is the one that fails; the two that gathered meanwhile share the next.
    results = await asyncio.gather(first, second, third, return_exceptions=True)
    assert isinstance(results[0], TransientError)
    assert tool.fetched == [[a], [b, c]]
    assert store.get_record(hub_id_for("tool", "items", a)) is None

    tool.gate.clear()
    tool.fail_transiently = 1
    batch = [_apply(coalescer, tool, f"webhook:test:d{n}", [x]) for n, x in ((4, a), (5, b))]
    await eventually(lambda: len(tool.fetched) == 3)
    tool.gate.set()
    failed = await asyncio.gather(*batch, return_exceptions=True)
    assert tool.fetched[2:] == [[a, b]]  # not split: a transient error is nobody's fault
    assert all(isinstance(r, TransientError) for r in failed)
    assert store.get_record(hub_id_for("tool", "items", a)) is None


async def test_a_delivery_that_breaks_its_batch_fails_alone(store: SqlStore) -> None:
    tool = GatedTool()
    a, b, c = _items(tool, 3)
    tool.poison = {b}
    coalescer = _coalescer(store)
    first = await _held_first(coalescer, tool, "webhook:test:d1", [a])
    bad = _apply(coalescer, tool, "webhook:test:d2", [b])
    good = _apply(coalescer, tool, "webhook:test:d3", [c])
    await eventually(lambda: coalescer.waiting == 2)
    tool.gate.set()
    results = await asyncio.gather(first, bad, good, return_exceptions=True)

    assert isinstance(results[1], ValueError)
    assert isinstance(results[2], AppliedCounts) and results[2].created == 1
    assert tool.fetched == [[a], [b, c], [b], [c]]
    assert _lineage(store, c) == "webhook:test:d3"


async def test_a_partition_leased_by_a_sync_fails_the_batch_as_busy(store: SqlStore) -> None:
    tool = GatedTool()
    a, b = _items(tool, 2)
    lease = partition_lease_name(CursorKey("tool", "items", PARTITION))
    assert store.acquire_lease(lease, "run-1", 60)
    coalescer = _coalescer(store)
    results = await asyncio.gather(_apply(coalescer, tool, "webhook:test:d1", [a]),
                                   _apply(coalescer, tool, "webhook:test:d2", [b]), return_exceptions=True)
    assert all(isinstance(r, PartitionBusy) for r in results)
    assert tool.fetched == []  # never fetched without the lease
    store.release_lease(lease, "run-1")
    await _apply(coalescer, tool, "webhook:test:d3", [a])
    assert _lineage(store, a) == "webhook:test:d3"


async def test_a_cancelled_delivery_is_withdrawn_before_its_batch_starts(store: SqlStore) -> None:
    tool = GatedTool()
    a, b, c = _items(tool, 3)
    coalescer = _coalescer(store)
    first = await _held_first(coalescer, tool, "webhook:test:d1", [a])
    gone = _apply(coalescer, tool, "webhook:test:d2", [b])
    kept = _apply(coalescer, tool, "webhook:test:d3", [c])
    await eventually(lambda: coalescer.waiting == 2)
    gone.cancel()
    tool.gate.set()
    await asyncio.gather(first, kept)
    assert tool.fetched == [[a], [c]]
    assert store.get_record(hub_id_for("tool", "items", b)) is None
