"""Helpers for the sync engine tests: in-memory tools, pairs, a retry policy that never sleeps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from app.connectors.base import Connector
from app.connectors.common import RetryPolicy
from app.connectors.memory import MemoryConnector
from app.models import Record, WorkItem
from app.settings import MemorySettings, PairEndpoint, PairSettings, SyncSettings
from app.storage import RunRecord, Store
from app.sync import run_sync
from tests.waiting import eventually

__all__ = ["FAST_RETRY", "eventually", "hub_records", "memory", "pull_pair", "sync", "two_way_pair"]


async def _no_sleep(_: float) -> None:
    return None


FAST_RETRY = RetryPolicy(max_attempts=3, max_rate_limited=3, base_delay_s=0.0, jitter_s=0.0, sleep=_no_sleep)


def memory(name: str, items: int = 0, page_size: int = 50, **kwargs: Any) -> MemoryConnector:
    return MemoryConnector(name, MemorySettings(items=items), page_size=page_size, **kwargs)


def pull_pair(connector: str = "src", stream: str = "items", partitions: list[str] | None = None,
              pair_id: str = "pull") -> PairSettings:
    source = PairEndpoint(connector=connector, stream=stream, partitions=partitions)
    return PairSettings(id=pair_id, source=source)


def two_way_pair(policy: str = "newest_wins", pair_id: str = "mirror") -> PairSettings:
    return PairSettings.model_validate({
        "id": pair_id, "mode": "two_way", "conflict_policy": policy,
        "source": {"connector": "a", "stream": "items"}, "target": {"connector": "b", "stream": "items"},
    })


async def sync(pair: PairSettings, connectors: Mapping[str, Connector], store: Store,
               settings: SyncSettings | None = None, **kwargs: Any) -> RunRecord:
    kwargs.setdefault("trigger", "cli")
    kwargs.setdefault("retry", FAST_RETRY)
    return await run_sync(pair, connectors, store, settings=settings or SyncSettings(), **kwargs)


def hub_records(store: Store, connector: str, stream: str = "items", live: bool = True) -> dict[str, Record]:
    """The hub's records of one stream, by external id."""
    return {r.source.external_id: r for r in store.iter_records(connector, stream, include_deleted=not live)}


Sides = tuple[MemoryConnector, MemoryConnector]


class FakeClock:
    """One shared time line for both tools, so 'newest' is decided by the order of the edits."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def two_sides() -> Sides:
    clock = FakeClock()
    return memory("a", clock=clock), memory("b", clock=clock)


def title(connector: MemoryConnector, external_id: str) -> str:
    body = connector.item("items", external_id).body
    assert isinstance(body, WorkItem)
    return body.title
