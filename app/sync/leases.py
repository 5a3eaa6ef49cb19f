"""Leases around the work of a run, so that one partition is never read by two runners at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.storage.protocol import CursorKey, Store

__all__ = ["RunLeases", "pair_lease_name", "partition_lease_name"]


def partition_lease_name(key: CursorKey) -> str:
    return f"sync:{key.connector}:{key.stream}:{key.partition}"


def pair_lease_name(pair_id: str) -> str:
    """Guards the two-way write phase of a pair (the baseline must have one writer)."""
    return f"pair:{pair_id}"


class RunLeases:
    """The leases one run holds. The owner is the run id: two runs in one process exclude each other too.

    A pull calls :meth:`acquire` after every page. Each renewal is a write transaction of its
    own (on SQLite a commit to the log, and the writers' gate): a lease taken or renewed less
    than a quarter of its ttl ago is still held for three quarters of it, so it is not renewed
    again (a full sync of 10,000 Jira issues renewed it 100 times, now once).
    """

    def __init__(self, store: Store, owner: str, ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self.owner = owner
        self._ttl_s = ttl_s
        self._clock = clock
        self._taken_at: dict[str, float] = {}

    async def acquire(self, name: str) -> bool:
        """Take (or renew) ``name``; False while another runner holds it unexpired."""
        asked_at = self._clock()
        taken_at = self._taken_at.get(name)
        if taken_at is not None and asked_at - taken_at < self._ttl_s / 4:
            return True
        ok = await asyncio.to_thread(self._store.acquire_lease, name, self.owner, self._ttl_s)
        if ok:
            self._taken_at[name] = asked_at  # the lease runs from no earlier than this
        else:
            self._taken_at.pop(name, None)
        return ok

    async def release(self, name: str) -> None:
        if self._taken_at.pop(name, None) is not None:
            await asyncio.to_thread(self._store.release_lease, name, self.owner)
