"""Overlapping Slack reads: a page's thread reads side by side, and the census's next page while it judges this one.

Both keep the order and the errors of the sequential code: results come back in the
order asked, and the first failure propagates as itself (not wrapped in an
``ExceptionGroup``: the engine tells hub errors apart by type) after the reads still
running are cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Coroutine
from typing import Any, TypeVar

__all__ = ["in_order", "read_ahead"]

T = TypeVar("T")


async def in_order(reads: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run ``reads`` concurrently; their results in the order given."""
    tasks = [asyncio.ensure_future(read) for read in reads]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in tasks:
            failure = task.exception() if task.done() and not task.cancelled() else None
            if failure is not None:
                raise failure
        return [task.result() for task in tasks]
    finally:
        # On a failure (or the caller's cancellation) the reads still running are not wanted.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def read_ahead(source: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """``source``'s items, fetching the next one while the caller works on (or is suspended after) this one.

    One item ahead at most (the census listing: the engine reads ahead of a full read itself), memory holds
    two pages, not the whole channel. Closing this generator cancels the read in flight.
    """
    pending: asyncio.Future[T] = asyncio.ensure_future(anext(source))
    try:
        while True:
            try:
                item = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(source))
            yield item
    finally:
        pending.cancel()
        # Settle the read in flight; its outcome no longer matters (a cancellation of the
        # caller itself still propagates from here).
        await asyncio.gather(pending, return_exceptions=True)
        await source.aclose()
