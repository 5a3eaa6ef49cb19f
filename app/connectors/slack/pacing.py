"""Per-method pauses after a 429, shared by every concurrent call of one Slack client.

Slack rate-limits each Web API method per workspace. When reads run concurrently (a
page's thread replies), a 429 on one ``conversations.replies`` means every other
``conversations.replies`` in flight or queued would draw a 429 of its own: so the first
429 pauses the method for its ``Retry-After``, and no call of that method is sent before
the pause ends. The call that was refused still waits out its own ``Retry-After`` in
``with_retries`` (never less); the pause only keeps its siblings from going early.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["MethodPauses"]


class MethodPauses:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until: dict[str, float] = {}

    def pause(self, method: str, seconds: float) -> None:
        """No call of ``method`` before ``seconds`` from now (a longer pause already set stays)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._until.get(method, 0.0):
            self._until[method] = until

    def remaining(self, method: str) -> float:
        return max(0.0, self._until.get(method, 0.0) - self._clock())

    async def wait(self, method: str) -> None:
        """Return once ``method`` is not paused; waits again only if the pause was extended meanwhile."""
        while True:
            until = self._until.get(method, 0.0)
            delay = until - self._clock()
            if delay <= 0:
                return
            await self._sleep(delay)
            if self._until.get(method, 0.0) == until:
                return
