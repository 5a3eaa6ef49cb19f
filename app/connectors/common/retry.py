"""Retries for vendor calls: bounded exponential backoff with jitter, and 429 as pacing.

Only hub errors drive the decision (a connector maps vendor errors first, in its
``errors.py``): ``RateLimited`` waits at least ``retry_after`` (never less) and does
not use up the attempt budget as fast, because being paced is not failing;
``TransientError`` backs off exponentially; everything else propagates at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog

from app.errors import RateLimited, TransientError

T = TypeVar("T")
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    """Attempts for transient failures (5xx, network)."""
    max_rate_limited: int = 20
    """How many 429s in a row we accept for one call before giving up as transient."""
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    jitter_s: float = 0.25
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        delay: float = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return delay + self.rng.uniform(0, self.jitter_s)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy | None = None,
    *,
    what: str = "call",
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """Run ``call`` until it succeeds, retrying ``TransientError`` / ``RateLimited`` per ``policy``.

    Raises the last error when the budget is spent. ``on_retry(error, delay)`` is called
    before each wait (for metrics).
    """
    policy = policy or RetryPolicy()
    failures = 0
    paced = 0
    while True:
        try:
            return await call()
        except RateLimited as exc:
            paced += 1
            if paced > policy.max_rate_limited:
                raise
            # Never before Retry-After; jitter only ever adds.
            delay = exc.retry_after + policy.rng.uniform(0, policy.jitter_s)
            error: BaseException = exc
        except TransientError as exc:
            failures += 1
            if failures >= policy.max_attempts:
                raise
            delay = policy.backoff(failures)
            error = exc
        log.info("retrying", what=what, error=type(error).__name__, detail=str(error), delay_s=round(delay, 3))
        if on_retry is not None:
            on_retry(error, delay)
        await policy.sleep(delay)
