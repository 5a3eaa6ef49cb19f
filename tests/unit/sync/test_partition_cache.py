"""Partition listings are reused between runs until they are due again."""

from __future__ import annotations

from app.sync.partitions import PartitionCache


class Lister:
    def __init__(self) -> None:
        self.calls = 0
        self.partitions = ["a", "b"]

    async def __call__(self) -> list[str]:
        self.calls += 1
        return list(self.partitions)


async def test_a_listing_is_reused_until_it_is_due_again() -> None:
    now = [0.0]
    cache = PartitionCache(refresh_s=60, monotonic=lambda: now[0])
    lister = Lister()
    assert await cache.get("slack", "messages", lister) == ["a", "b"]
    lister.partitions.append("c")
    now[0] = 59.0
    assert await cache.get("slack", "messages", lister) == ["a", "b"]
    assert lister.calls == 1
    now[0] = 60.0
    assert await cache.get("slack", "messages", lister) == ["a", "b", "c"]
    assert lister.calls == 2


async def test_refresh_lists_at_once_and_streams_are_cached_apart() -> None:
    cache = PartitionCache(refresh_s=3600)
    lister = Lister()
    await cache.get("slack", "messages", lister)
    await cache.get("slack", "messages", lister, refresh=True)
    await cache.get("google", "events", lister)
    assert lister.calls == 3
