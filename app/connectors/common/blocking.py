"""Run a blocking vendor SDK from async code with bounded concurrency per connector."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from app.connectors.common.meter import count_call

P = ParamSpec("P")
T = TypeVar("T")


class BlockingCalls:
    """Calls ``fn`` in a worker thread, at most ``limit`` at a time, counting the calls made."""

    def __init__(self, limit: int) -> None:
        self._semaphore = asyncio.Semaphore(limit)
        self.calls = 0

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._semaphore:
            self.calls += 1
            count_call()
            return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
