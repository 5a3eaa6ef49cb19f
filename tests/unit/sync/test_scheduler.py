"""The scheduler: jobs per pair, run-now requests that collapse, a graceful shutdown."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.connectors.memory import MemoryConnector
from app.errors import ConfigError
from app.settings import Settings
from app.storage import RunStatus, SqlStore
from app.sync import SyncScheduler

from .support import FAST_RETRY, eventually, hub_records, memory


def hub_settings(interval_s: float = 300.0, enabled: bool = True) -> Settings:
    return Settings.model_validate({
        "connectors": {"src": {"type": "memory", "items": 0}},
        "pairs": [
            {"id": "pull", "source": {"connector": "src", "stream": "items"}, "interval_s": interval_s},
            {"id": "off", "source": {"connector": "src", "stream": "events"}, "enabled": enabled},
        ],
    })


@pytest.fixture
async def src() -> MemoryConnector:
    return memory("src", items=6)


async def started(settings: Settings, src: MemoryConnector, store: SqlStore) -> SyncScheduler:
    scheduler = SyncScheduler(settings, {"src": src}, store, retry=FAST_RETRY)
    scheduler.start()
    return scheduler


@pytest.fixture
async def scheduler(src: MemoryConnector, store: SqlStore) -> AsyncIterator[SyncScheduler]:
    running = await started(hub_settings(enabled=False), src, store)
    yield running
    await running.shutdown()


async def test_each_enabled_pair_is_scheduled_on_its_interval(scheduler: SyncScheduler) -> None:
    assert scheduler.running
    next_run = scheduler.next_run_time("pull")
    assert next_run is not None
    assert timedelta(seconds=290) < next_run - datetime.now(UTC) <= timedelta(seconds=300)
    assert scheduler.next_run_time("off") is None


async def test_run_now_twice_collapses_to_one_run(scheduler: SyncScheduler, store: SqlStore) -> None:
    scheduler.run_now("pull")
    scheduler.run_now("pull", trigger="webhook")
    await scheduler.wait_idle()
    runs = store.list_runs("pull")
    assert [(r.trigger, r.status) for r in runs] == [("webhook", RunStatus.SUCCEEDED)]


async def test_a_collapsed_request_keeps_a_full_resync(scheduler: SyncScheduler, store: SqlStore) -> None:
    scheduler.run_now("pull", full=True)
    scheduler.run_now("pull")
    await scheduler.wait_idle()
    assert [r.full for r in store.list_runs("pull")] == [True]


async def test_a_request_during_a_run_is_kept_for_one_more_run(
    scheduler: SyncScheduler, store: SqlStore, src: MemoryConnector
) -> None:
    src.faults.latency_s = 0.02
    scheduler.run_now("pull")
    await eventually(lambda: scheduler.is_running("pull"))
    scheduler.run_now("pull")
    await scheduler.wait_idle()
    assert len(store.list_runs("pull")) == 2


async def test_run_now_refuses_an_unknown_or_disabled_pair(scheduler: SyncScheduler) -> None:
    for pair_id in ("nope", "off"):
        with pytest.raises(ConfigError):
            scheduler.run_now(pair_id)


async def test_the_interval_job_runs_the_pair_without_overlap(src: MemoryConnector, store: SqlStore) -> None:
    scheduler = await started(hub_settings(interval_s=0.05), src, store)
    try:
        await eventually(lambda: len(store.list_runs("pull", status=RunStatus.SUCCEEDED)) >= 2)
    finally:
        await scheduler.shutdown()
    runs = sorted(store.list_runs("pull"), key=lambda r: r.started_at)
    assert {r.trigger for r in runs} == {"schedule"}
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None and earlier.finished_at <= later.started_at


async def test_shutdown_lets_the_current_page_commit_and_ends_the_run_cleanly(store: SqlStore) -> None:
    slow = memory("src", items=20, page_size=1, partitions={"items": ["alpha"]})
    slow.faults.latency_s = 0.02
    scheduler = await started(hub_settings(), slow, store)
    scheduler.run_now("pull")
    await eventually(lambda: store.count_records("src") >= 2)
    await scheduler.shutdown()
    assert not scheduler.running
    (run,) = store.list_runs("pull")
    assert run.status is RunStatus.SUCCEEDED and "stopped" in run.flags
    assert 2 <= len(hub_records(store, "src")) < 20
    assert run.created == len(hub_records(store, "src"))
