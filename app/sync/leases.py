"""Leases around the work of a run, so that one partition is never read by two runners at once."""

from __future__ import annotations

import asyncio

from app.storage.protocol import CursorKey, Store

__all__ = ["RunLeases", "pair_lease_name", "partition_lease_name"]


def partition_lease_name(key: CursorKey) -> str:
    return f"sync:{key.connector}:{key.stream}:{key.partition}"


def pair_lease_name(pair_id: str) -> str:
    """Guards the two-way write phase of a pair (the baseline must have one writer)."""
    return f"pair:{pair_id}"


class RunLeases:
    """The leases one run holds. The owner is the run id: two runs in one process exclude each other too."""

    def __init__(self, store: Store, owner: str, ttl_s: float) -> None:
        self._store = store
        self.owner = owner
        self._ttl_s = ttl_s
        self._held: set[str] = set()

    async def acquire(self, name: str) -> bool:
        """Take (or renew) ``name``; False while another runner holds it unexpired."""
        ok = await asyncio.to_thread(self._store.acquire_lease, name, self.owner, self._ttl_s)
        if ok:
            self._held.add(name)
        else:
            self._held.discard(name)
        return ok

    async def release(self, name: str) -> None:
        if name in self._held:
            self._held.discard(name)
            await asyncio.to_thread(self._store.release_lease, name, self.owner)
