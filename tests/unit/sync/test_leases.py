"""A run renews its leases only when a quarter of their ttl has passed, and still sees a lost lease."""

from __future__ import annotations

from app.storage import SqlStore
from app.sync.leases import RunLeases


class CountingStore:
    """The real store, counting the lease writes that reach it."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.acquires = 0

    def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        self.acquires += 1
        return self.store.acquire_lease(name, owner, ttl_s)

    def release_lease(self, name: str, owner: str) -> None:
        self.store.release_lease(name, owner)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_held_lease_is_renewed_once_a_quarter_of_its_ttl(store: SqlStore) -> None:
    counting, clock = CountingStore(store), Clock()
    leases = RunLeases(counting, owner="run-1", ttl_s=120, clock=clock)  # type: ignore[arg-type]
    assert await leases.acquire("sync:a")
    for _ in range(50):  # a page after page
        clock.now += 0.5
        assert await leases.acquire("sync:a")
    assert counting.acquires == 1  # 25 s < 30 s: still three quarters of the ttl ahead
    clock.now += 6
    assert await leases.acquire("sync:a")
    assert counting.acquires == 2


async def test_a_lease_another_runner_holds_is_asked_for_every_time(store: SqlStore) -> None:
    counting, clock = CountingStore(store), Clock()
    assert store.acquire_lease("sync:a", "other-run", 120)
    leases = RunLeases(counting, owner="run-1", ttl_s=120, clock=clock)  # type: ignore[arg-type]
    assert not await leases.acquire("sync:a")
    assert not await leases.acquire("sync:a")
    assert counting.acquires == 2


async def test_a_released_lease_is_taken_again_from_the_store(store: SqlStore) -> None:
    counting, clock = CountingStore(store), Clock()
    leases = RunLeases(counting, owner="run-1", ttl_s=120, clock=clock)  # type: ignore[arg-type]
    assert await leases.acquire("sync:a")
    await leases.release("sync:a")
    assert store.acquire_lease("sync:a", "other-run", 120)  # released: another runner may take it
    assert not await leases.acquire("sync:a")
    assert counting.acquires == 2
