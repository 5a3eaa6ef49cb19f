"""The pieces under the overlapping reads: per-method 429 pauses, ordered concurrent reads, read-ahead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from app.connectors.slack.overlap import in_order, read_ahead
from app.connectors.slack.pacing import MethodPauses
from app.errors import RateLimited, TransientError


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_a_paused_method_waits_out_the_pause_and_others_do_not() -> None:
    time = FakeTime()
    pauses = MethodPauses(clock=time.clock, sleep=time.sleep)
    pauses.pause("conversations.replies", 30.0)
    await pauses.wait("conversations.history")
    assert time.slept == []
    await pauses.wait("conversations.replies")
    assert time.slept == [30.0] and pauses.remaining("conversations.replies") == 0.0


async def test_a_shorter_pause_never_cuts_a_longer_one() -> None:
    time = FakeTime()
    pauses = MethodPauses(clock=time.clock, sleep=time.sleep)
    pauses.pause("conversations.replies", 30.0)
    pauses.pause("conversations.replies", 5.0)
    assert pauses.remaining("conversations.replies") == 30.0


async def test_a_pause_extended_while_waiting_is_waited_out_too() -> None:
    time = FakeTime()
    pauses = MethodPauses(clock=time.clock, sleep=time.sleep)

    async def sleep_and_extend(seconds: float) -> None:
        await FakeTime.sleep(time, seconds)
        if len(time.slept) == 1:
            pauses.pause("conversations.replies", 10.0)  # another call drew a 429 meanwhile

    pauses = MethodPauses(clock=time.clock, sleep=sleep_and_extend)
    pauses.pause("conversations.replies", 3.0)
    await pauses.wait("conversations.replies")
    assert time.slept == [3.0, 10.0]


async def test_in_order_returns_results_in_the_order_asked() -> None:
    async def after(delay: float, value: int) -> int:
        await asyncio.sleep(delay)
        return value

    assert await in_order([after(0.03, 1), after(0.0, 2), after(0.01, 3)]) == [1, 2, 3]


async def test_in_order_raises_the_first_failure_itself_and_cancels_the_rest() -> None:
    cancelled: list[int] = []

    async def slow(n: int) -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise
        return n

    async def paced() -> int:
        raise RateLimited("slack: ratelimited", 7.0)

    with pytest.raises(RateLimited) as raised:  # not an ExceptionGroup: the engine matches on type
        await in_order([slow(1), paced(), slow(2)])
    assert raised.value.retry_after == 7.0
    assert sorted(cancelled) == [1, 2]


async def test_read_ahead_fetches_the_next_item_while_the_caller_holds_this_one() -> None:
    fetched: list[int] = []

    async def pages() -> AsyncGenerator[int, None]:
        for n in range(3):
            fetched.append(n)
            yield n

    seen: list[tuple[int, list[int]]] = []
    async for page in read_ahead(pages()):
        await asyncio.sleep(0)  # the caller's own work (the hub committing the page)
        seen.append((page, list(fetched)))
    assert [page for page, _ in seen] == [0, 1, 2]
    assert seen[0][1] == [0, 1]  # page 1 was read while page 0 was being worked on


async def test_read_ahead_passes_a_failure_through_after_the_pages_before_it() -> None:
    async def pages() -> AsyncGenerator[int, None]:
        yield 1
        raise TransientError("slack answered HTTP 503")

    got: list[int] = []
    with pytest.raises(TransientError):
        async for page in read_ahead(pages()):
            got.append(page)
    assert got == [1]


async def test_closing_read_ahead_early_stops_the_read_in_flight_and_closes_the_source() -> None:
    closed = asyncio.Event()
    started_second = asyncio.Event()

    async def pages() -> AsyncGenerator[int, None]:
        try:
            yield 1
            started_second.set()
            await asyncio.sleep(10)
            yield 2
        finally:
            closed.set()

    reader = read_ahead(pages())
    assert await anext(reader) == 1
    await started_second.wait()
    await reader.aclose()
    assert closed.is_set()
