"""The in-memory connector: the connector contract, its change log and cursors, and its faults."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.connectors.base import Connector
from app.connectors.memory import MemoryConnector, SimulatedCrash
from app.connectors.registry import build_connector
from app.errors import (
    ConfigError,
    CursorInvalidated,
    PreconditionFailed,
    RateLimited,
    SkippableRecord,
    TransientError,
)
from app.models import AnyBody, CalendarEvent, WorkItem
from app.settings import MemorySettings

try:  # the contract lives beside the tests; `tests` is a package only when run from the repo root
    from tests.contract.connector_contract import WritableConnectorContract, census, read_all
except ModuleNotFoundError:
    from contract.connector_contract import WritableConnectorContract, census, read_all  # type: ignore[no-redef]


def work_item(title: str = "Write the spec", key: str = "NEW-1") -> WorkItem:
    return WorkItem(key=key, title=title)


class MemoryDriver:
    """Acts on the memory tool as its users would (the contract's ``SourceDriver``)."""

    def __init__(self, connector: MemoryConnector) -> None:
        self.connector = connector

    def partition(self) -> str:
        return "alpha"

    def _first(self, partition: str) -> str:
        return sorted(self.connector.live_items("items", partition))[0]

    def touch(self, partition: str) -> str:
        external_id = self._first(partition)
        self.connector.edit("items", external_id, title="touched")
        return external_id

    def add(self, partition: str) -> str:
        return self.connector.add("items", partition, work_item())

    def remove(self, partition: str) -> str:
        external_id = self._first(partition)
        self.connector.remove("items", external_id)
        return external_id

    def revoke_token(self) -> None:
        self.connector.faults.revoked = True

    def new_body(self, partition: str) -> AnyBody:
        return work_item()

    def edited(self, body: AnyBody) -> AnyBody:
        assert isinstance(body, WorkItem)
        return body.model_copy(update={"title": body.title + " (edited)"})


@pytest.fixture
async def memory() -> AsyncIterator[MemoryConnector]:
    async with MemoryConnector("mem", MemorySettings(seed=7, items=10), page_size=3) as connector:
        yield connector


class TestMemoryConnectorContract(WritableConnectorContract):
    stream = "items"

    @pytest.fixture
    def connector(self, memory: MemoryConnector) -> Connector:
        return memory

    @pytest.fixture
    def source(self, memory: MemoryConnector) -> MemoryDriver:
        return MemoryDriver(memory)


async def test_versions_grow_by_one_and_an_incremental_read_shows_the_tombstone(
    memory: MemoryConnector
) -> None:
    _, cursor, _ = await read_all(memory, "items", "alpha", None)
    external_id = memory.add("items", "alpha", work_item())
    memory.edit("items", external_id, title="second")
    memory.remove("items", external_id)
    changes, _, _ = await read_all(memory, "items", "alpha", cursor)
    assert [(c.external_id, c.version, c.body is None) for c in changes] == [
        (external_id, "1", False), (external_id, "2", False), (external_id, "3", True)
    ]
    assert changes[-1].tombstone is not None


async def test_a_full_read_pages_by_page_size_and_resumes_from_a_mid_read_cursor(
    memory: MemoryConnector
) -> None:
    _, _, pages = await read_all(memory, "items", "alpha", None)
    assert [len(p.changes) for p in pages] == [3, 2]  # 5 seeded items in alpha, pages of 3
    first = pages[0]
    rest, _, _ = await read_all(memory, "items", "alpha", first.cursor_after)
    ids = [c.external_id for c in first.changes] + [c.external_id for c in rest]
    assert sorted(ids) == sorted(memory.live_items("items", "alpha"))


async def test_a_change_made_during_a_full_read_is_replayed_at_its_end(memory: MemoryConnector) -> None:
    reader = memory.read_changes("items", "alpha", None)
    first = await anext(reader)
    early = first.changes[0].external_id
    memory.edit("items", early, title="edited while the read ran")
    rest = [c async for page in reader for c in page.changes]
    assert any(c.external_id == early and c.body is not None and c.body.title == "edited while the read ran"
               for c in rest if isinstance(c.body, WorkItem))


async def test_an_invalidated_cursor_raises_and_a_full_read_still_works(memory: MemoryConnector) -> None:
    _, cursor, _ = await read_all(memory, "items", "alpha", None)
    memory.invalidate_cursors("items", "alpha")
    with pytest.raises(CursorInvalidated):
        await read_all(memory, "items", "alpha", cursor)
    changes, _, _ = await read_all(memory, "items", "alpha", None)
    assert len(changes) == 5
    _, beta_cursor, _ = await read_all(memory, "items", "beta", None)
    assert (await read_all(memory, "items", "beta", beta_cursor))[0] == []


async def test_an_unreadable_cursor_is_a_dead_cursor(memory: MemoryConnector) -> None:
    for bad in ("garbage", "m1:0:999999", "m1:0:full:x"):
        with pytest.raises(CursorInvalidated):
            await read_all(memory, "items", "alpha", bad)


async def test_a_stale_if_version_is_refused_for_update_and_delete(memory: MemoryConnector) -> None:
    created = await memory.create("items", "alpha", work_item(), origin="hub")
    memory.edit("items", created.external_id, title="someone else")
    with pytest.raises(PreconditionFailed):
        await memory.update("items", created.external_id, work_item("mine"), if_version=created.version,
                            origin="hub")
    with pytest.raises(PreconditionFailed):
        await memory.delete("items", created.external_id, if_version=created.version)
    await memory.delete("items", created.external_id, if_version="2")
    assert created.external_id not in memory.live_items("items")


async def test_the_origin_marker_stays_on_hub_writes_and_a_user_edit_clears_it(
    memory: MemoryConnector
) -> None:
    _, cursor, _ = await read_all(memory, "items", "beta", None)
    created = await memory.create("items", "beta", work_item(), origin="passerelle:p1")
    changes, cursor, _ = await read_all(memory, "items", "beta", cursor)
    assert [c.raw["origin"] for c in changes] == ["passerelle:p1"]
    memory.edit("items", created.external_id, title="by a person")
    changes, _, _ = await read_all(memory, "items", "beta", cursor)
    assert [c.raw["origin"] for c in changes] == [None]


@pytest.mark.parametrize(
    "error", [TransientError("503"), RateLimited("429", retry_after=0.0), ConfigError("401")]
)
async def test_fail_next_fails_exactly_that_many_calls(memory: MemoryConnector, error: Exception) -> None:
    memory.faults.fail_next("create", 2, lambda: error)
    for _ in range(2):
        with pytest.raises(type(error)):
            await memory.create("items", "alpha", work_item(), origin="hub")
    assert (await memory.create("items", "alpha", work_item(), origin="hub")).version == "1"


async def test_a_crash_after_page_k_fires_on_the_next_fetch_once(memory: MemoryConnector) -> None:
    memory.faults.crash_after_pages(1)
    seen = []
    with pytest.raises(SimulatedCrash):
        async for page in memory.read_changes("items", "alpha", None):
            seen.append(page)
    assert len(seen) == 1
    assert not memory.faults.crash_armed
    assert len((await read_all(memory, "items", "alpha", seen[0].cursor_after))[0]) == 2


async def test_lost_access_lists_nothing(memory: MemoryConnector) -> None:
    memory.faults.list_nothing = True
    assert await census(memory, "items", "alpha") == {}
    assert (await read_all(memory, "items", "alpha", None))[0] == []


async def test_a_flaky_version_bump_keeps_the_content(memory: MemoryConnector) -> None:
    external_id = sorted(memory.live_items("items", "alpha"))[0]
    before = memory.item("items", external_id)
    body, version = before.body, before.version
    memory.bump_version("items", external_id)
    after = memory.item("items", external_id)
    assert (after.version, after.body) == (version + 1, body)


async def test_seeding_is_deterministic_and_spreads_items_over_partitions() -> None:
    one = MemoryConnector("a", MemorySettings(seed=3, items=8))
    two = MemoryConnector("b", MemorySettings(seed=3, items=8))
    bodies = [i.body for i in one.live_items("items").values()]
    assert bodies == [i.body for i in two.live_items("items").values()]
    assert len(one.live_items("items", "alpha")) == len(one.live_items("items", "beta")) == 4
    assert all(isinstance(i.body, CalendarEvent) for i in one.live_items("events").values())
    assert len(one.live_items("events")) == 2


async def test_a_revoked_token_makes_check_report_not_ok(memory: MemoryConnector) -> None:
    memory.faults.revoked = True
    result = await memory.check()
    assert not result.ok and "revoked" in result.detail


async def test_get_many_returns_a_tombstone_for_a_missing_record(memory: MemoryConnector) -> None:
    external_id = sorted(memory.live_items("items", "alpha"))[0]
    memory.remove("items", external_id)
    fetched = await memory.get_many("items", [external_id, "nope"])
    assert [c.tombstone is not None for c in fetched] == [True, True]


async def test_a_body_of_another_kind_is_refused(memory: MemoryConnector) -> None:
    event = next(iter(memory.live_items("events").values())).body
    with pytest.raises(SkippableRecord):
        await memory.create("items", "alpha", event, origin="hub")


async def test_an_unknown_partition_is_a_config_error(memory: MemoryConnector) -> None:
    with pytest.raises(ConfigError):
        await read_all(memory, "items", "gamma", None)


def test_the_registry_builds_the_memory_connector() -> None:
    connector = build_connector("demo", MemorySettings(items=4))
    assert isinstance(connector, MemoryConnector) and len(connector.live_items("items")) == 4
