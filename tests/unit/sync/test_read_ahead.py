"""The pull's read-ahead: the next page is fetched while the current one is committed, never more."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator

import pytest

from app.connectors.base import Change, Page
from app.models import WorkItem
from app.sync.pull import READ_AHEAD_MAX_CHANGES, _pull_tuning, _ReadAhead

_CHANGE = Change("1", "v1", body=WorkItem(key="K-1", title="t"))


class Feed:
    """A connector feed of ``pages`` pages that records what it was asked for and when it closed."""

    def __init__(self, pages: int, fail_at: int | None = None, changes: int = 0) -> None:
        self.pages = pages
        self.changes = changes
        self.fail_at = fail_at
        self.started: list[int] = []
        self.closed = False
        self.running = 0
        self.overlapped = False
        self.release = asyncio.Event()
        self.release.set()

    async def read(self) -> AsyncIterator[Page]:
        try:
            for n in range(self.pages):
                self.started.append(n)
                self.running += 1
                self.overlapped |= self.running > 1
                try:
                    await self.release.wait()
                    if n == self.fail_at:
                        raise RuntimeError(f"page {n} failed")
                finally:
                    self.running -= 1
                yield Page([_CHANGE] * self.changes, f"cursor-{n}")
        finally:
            self.closed = True


async def test_pages_come_in_feed_order_and_the_feed_ends() -> None:
    feed = Feed(4)
    ahead = _ReadAhead(feed.read())
    cursors = []
    while (page := await ahead.next()) is not None:
        cursors.append(page.cursor_after)
    await ahead.close()
    assert cursors == ["cursor-0", "cursor-1", "cursor-2", "cursor-3"]
    assert await ahead.next() is None
    assert feed.closed
    assert not feed.overlapped  # one task drives the generator at a time


async def test_the_next_page_is_read_while_the_current_one_is_handled_but_no_further() -> None:
    feed = Feed(5)
    ahead = _ReadAhead(feed.read())
    first = await ahead.next()
    assert first is not None and first.cursor_after == "cursor-0"
    await asyncio.sleep(0.01)  # the caller "commits" page 0: the read-ahead runs meanwhile
    assert feed.started == [0, 1]  # page 1 fetched ahead, page 2 not
    await ahead.close()


async def test_nothing_is_read_ahead_after_a_page_too_large_to_hold_twice() -> None:
    feed = Feed(3, changes=READ_AHEAD_MAX_CHANGES + 1)
    ahead = _ReadAhead(feed.read())
    first = await ahead.next()
    assert first is not None and len(first.changes) > READ_AHEAD_MAX_CHANGES
    await asyncio.sleep(0.01)
    assert feed.started == [0]  # page 1 waits until page 0 is handled
    second = await ahead.next()
    assert second is not None and second.cursor_after == "cursor-1"
    await ahead.close()


async def test_close_cancels_a_read_ahead_under_way_and_closes_the_feed() -> None:
    feed = Feed(5)
    ahead = _ReadAhead(feed.read())
    assert await ahead.next() is not None
    feed.release.clear()  # page 1's fetch now hangs
    await asyncio.sleep(0.01)
    assert feed.started == [0, 1]
    await ahead.close()
    assert feed.closed
    assert feed.running == 0


async def test_a_failed_read_ahead_surfaces_only_when_its_page_is_asked_for() -> None:
    feed = Feed(5, fail_at=1)
    ahead = _ReadAhead(feed.read())
    page = await ahead.next()
    assert page is not None and page.cursor_after == "cursor-0"  # handed out, failure of page 1 held back
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="page 1 failed"):
        await ahead.next()
    await ahead.close()
    assert feed.closed


def test_collections_are_rarer_and_switches_quicker_only_while_a_pull_runs() -> None:
    before = gc.get_threshold(), sys.getswitchinterval()
    with _pull_tuning():
        with _pull_tuning():
            assert gc.get_threshold()[0] >= 10_000
            assert sys.getswitchinterval() <= 0.001
        assert gc.get_threshold()[0] >= 10_000  # the outer pull still runs
        assert sys.getswitchinterval() <= 0.001
    assert (gc.get_threshold(), sys.getswitchinterval()) == before
