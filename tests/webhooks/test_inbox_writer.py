"""The group-commit inbox writer: deliveries that arrive during a write share the next transaction."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from app.storage import create_store
from app.webhooks.inbox_writer import InboxWriter

_Entry = tuple[str, str, dict[str, str], bytes]


class _RecordingInbox:
    """An in-memory inbox that records its transactions; the first one can be held open."""

    def __init__(self, fail: bool = False) -> None:
        self.transactions: list[list[str]] = []
        self.stored: set[tuple[str, str]] = set()
        self.hold_first = threading.Event()
        self.hold_first.set()
        self.fail = fail
        self.in_flight = 0
        self.peak_in_flight = 0
        self._count = threading.Lock()

    def inbox_put(self, source: str, delivery_id: str, headers: dict[str, str], body: bytes) -> bool:
        return self.inbox_put_many([(source, delivery_id, headers, body)])[0]

    def inbox_put_many(self, items: list[_Entry]) -> list[bool]:
        with self._count:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return self._put_many(items)
        finally:
            with self._count:
                self.in_flight -= 1

    def _put_many(self, items: list[_Entry]) -> list[bool]:
        if not self.transactions:
            self.hold_first.wait(5)
        self.transactions.append([d for _, d, _, _ in items])
        if self.fail:
            raise OSError("disk full")
        flags = []
        for source, delivery_id, _, _ in items:
            flags.append((source, delivery_id) not in self.stored)
            self.stored.add((source, delivery_id))
        return flags


async def test_deliveries_arriving_during_a_write_share_one_transaction() -> None:
    inbox = _RecordingInbox()
    inbox.hold_first.clear()
    writer = InboxWriter(inbox)  # type: ignore[arg-type]

    first = asyncio.create_task(writer.put("slack", "e0", {}, b"{}"))
    await asyncio.sleep(0.05)  # e0's transaction is open in the worker thread
    rest = [asyncio.create_task(writer.put("slack", f"e{n}", {}, b"{}")) for n in range(1, 6)]
    again = asyncio.create_task(writer.put("slack", "e0", {}, b"{}"))
    await asyncio.sleep(0.05)
    assert not first.done()  # not answered before its transaction committed
    inbox.hold_first.set()

    assert await first is True
    assert await asyncio.gather(*rest) == [True] * 5
    assert await again is False
    assert inbox.transactions == [["e0"], ["e1", "e2", "e3", "e4", "e5", "e0"]]
    assert writer.batches == 2


async def test_batches_are_capped_at_max_batch() -> None:
    inbox = _RecordingInbox()
    inbox.hold_first.clear()
    writer = InboxWriter(inbox, max_batch=2)  # type: ignore[arg-type]
    puts = [asyncio.create_task(writer.put("jira", f"d{n}", {}, b"{}")) for n in range(5)]
    await asyncio.sleep(0.05)
    inbox.hold_first.set()

    assert await asyncio.gather(*puts) == [True] * 5
    assert inbox.transactions == [["d0"], ["d1", "d2"], ["d3", "d4"]]  # d0 went out alone, at once


async def test_a_trickle_during_a_write_waits_for_it_rather_than_opening_more_transactions() -> None:
    inbox = _RecordingInbox()
    inbox.hold_first.clear()
    writer = InboxWriter(inbox, max_in_flight=4)  # type: ignore[arg-type]
    first = asyncio.create_task(writer.put("jira", "d0", {}, b"{}"))
    await asyncio.sleep(0.05)
    rest = [asyncio.create_task(writer.put("jira", f"d{n}", {}, b"{}")) for n in range(1, 4)]
    await asyncio.sleep(0.05)
    inbox.hold_first.set()

    assert await asyncio.gather(first, *rest) == [True] * 4
    assert inbox.transactions == [["d0"], ["d1", "d2", "d3"]]  # not three transactions of one
    assert inbox.peak_in_flight == 1


async def test_a_second_transaction_opens_beside_the_first_once_min_concurrent_batch_waits() -> None:
    inbox = _RecordingInbox()
    inbox.hold_first.clear()
    writer = InboxWriter(inbox, max_in_flight=2, min_concurrent_batch=3)  # type: ignore[arg-type]
    puts = [asyncio.create_task(writer.put("jira", f"d{n}", {}, b"{}")) for n in range(4)]
    await asyncio.sleep(0.05)
    inbox.hold_first.set()

    assert await asyncio.gather(*puts) == [True] * 4
    assert sorted(inbox.transactions) == [["d0"], ["d1", "d2", "d3"]]
    assert inbox.peak_in_flight == 2  # d1-d3 did not wait for d0's commit


async def test_full_batches_waiting_go_out_side_by_side_up_to_max_in_flight() -> None:
    inbox = _RecordingInbox()
    inbox.hold_first.clear()  # every transaction waits for it: none has been recorded yet
    writer = InboxWriter(inbox, max_batch=2, max_in_flight=3)  # type: ignore[arg-type]
    puts = [asyncio.create_task(writer.put("jira", f"d{n}", {}, b"{}")) for n in range(7)]
    await asyncio.sleep(0.05)
    inbox.hold_first.set()

    assert await asyncio.gather(*puts) == [True] * 7
    # d0 alone at once; then a second and a third transaction as soon as a full batch waited
    # (all three open together); d5 and d6 only after one of the three ended.
    assert sorted(inbox.transactions) == [["d0"], ["d1", "d2"], ["d3", "d4"], ["d5", "d6"]]
    assert inbox.peak_in_flight == 3


async def test_a_failed_transaction_fails_every_delivery_in_it() -> None:
    inbox = _RecordingInbox(fail=True)
    inbox.hold_first.clear()
    writer = InboxWriter(inbox)  # type: ignore[arg-type]
    puts = [asyncio.create_task(writer.put("jira", f"d{n}", {}, b"{}")) for n in range(4)]
    await asyncio.sleep(0.05)
    inbox.hold_first.set()

    outcomes = await asyncio.gather(*puts, return_exceptions=True)
    assert all(isinstance(o, OSError) for o in outcomes)
    assert inbox.stored == set()


async def test_drain_waits_for_queued_deliveries() -> None:
    inbox = _RecordingInbox()
    writer = InboxWriter(inbox)  # type: ignore[arg-type]
    puts = [asyncio.create_task(writer.put("jira", f"d{n}", {}, b"{}")) for n in range(3)]
    await asyncio.sleep(0)  # the puts are queued
    await writer.drain()
    assert all(p.done() for p in puts)
    assert inbox.stored == {("jira", "d0"), ("jira", "d1"), ("jira", "d2")}


async def test_concurrent_deliveries_on_sqlite_are_all_stored_once(tmp_path: Path) -> None:
    store = create_store(f"sqlite:///{tmp_path / 'hub.db'}", migrate=True)
    try:
        writer = InboxWriter(store)
        ids = [f"d{n % 150}" for n in range(200)]  # 50 duplicates, some within one batch
        flags = await asyncio.gather(*(writer.put("slack", d, {}, d.encode()) for d in ids))
        assert sum(flags) == 150
        assert len(store.inbox_list(limit=1000)) == 150
        assert writer.batches < 200  # group commit happened
    finally:
        store.close()


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        InboxWriter(_RecordingInbox(), max_batch=0)  # type: ignore[arg-type]
