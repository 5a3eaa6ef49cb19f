"""Two-way pairs: propagation, echo suppression, conflicts, delete vs edit, failed writes."""

from __future__ import annotations

import pytest

from app.connectors.memory import MemoryConnector
from app.errors import ConfigError, PreconditionFailed, SkippableRecord, TransientError
from app.models import WorkItem
from app.storage import RunStatus, SqlStore

from .support import Sides, hub_records, sync, title, two_sides, two_way_pair


@pytest.fixture
def sides() -> Sides:
    return two_sides()


async def mirrored(store: SqlStore, a: MemoryConnector, b: MemoryConnector, policy: str = "newest_wins"
                   ) -> tuple[str, str]:
    """Create one item on a, sync it to b; returns (a_id, b_id)."""
    a_id = a.add("items", "alpha", WorkItem(key="K-1", title="original"))
    run = await sync(two_way_pair(policy), {"a": a, "b": b}, store)
    assert run.status is RunStatus.SUCCEEDED, run
    return a_id, store.baseline("mirror")[a_id].b_id


async def test_a_new_item_on_the_source_is_created_on_the_target_with_the_origin_marker(
    store: SqlStore, sides: Sides
) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    made = b.item("items", b_id)
    assert made.partition == "alpha" and made.origin == "passerelle:mirror"
    assert made.body == a.item("items", a_id).body
    row = store.baseline("mirror")[a_id]
    assert (row.a_version, row.b_version) == ("1", "1")
    hub_a, hub_b = hub_records(store, "a")[a_id], hub_records(store, "b")[b_id]
    assert {link.kind for link in store.links_for(hub_a.hub_id)} == {"mirrors"}
    assert hub_a.content_hash == hub_b.content_hash == row.a_hash == row.b_hash


async def test_an_edit_on_the_target_propagates_to_the_source(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    b.edit("items", b_id, title="edited on b")
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.updated, run.failed) == (RunStatus.SUCCEEDED, 2, 0)  # pulled from b, written to a
    assert title(a, a_id) == "edited on b"
    assert a.item("items", a_id).origin == "passerelle:mirror"


async def test_the_hubs_own_write_is_not_echoed_back(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    b.edit("items", b_id, title="edited on b")
    await sync(two_way_pair(), {"a": a, "b": b}, store)
    versions = (a.item("items", a_id).version, b.item("items", b_id).version)
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.created, run.updated, run.deleted, run.failed) == (0, 0, 0, 0)
    assert (a.item("items", a_id).version, b.item("items", b_id).version) == versions


async def test_both_sides_edited_newest_wins(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    b.edit("items", b_id, title="older edit on b")
    a.edit("items", a_id, title="newer edit on a")
    await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert title(a, a_id) == title(b, b_id) == "newer edit on a"
    a.edit("items", a_id, title="older edit on a")
    b.edit("items", b_id, title="newer edit on b")
    await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert title(a, a_id) == title(b, b_id) == "newer edit on b"


@pytest.mark.parametrize(("policy", "winner"), [("source_wins", "edit on a"), ("target_wins", "edit on b")])
async def test_both_sides_edited_the_named_side_wins(
    store: SqlStore, sides: Sides, policy: str, winner: str
) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b, policy)
    a.edit("items", a_id, title="edit on a")
    b.edit("items", b_id, title="edit on b")
    await sync(two_way_pair(policy), {"a": a, "b": b}, store)
    assert title(a, a_id) == title(b, b_id) == winner


async def test_a_delete_on_one_side_deletes_the_unchanged_other(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    _, b_id = await mirrored(store, a, b)
    b.remove("items", b_id)
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert run.deleted == 2  # b's tombstone pulled, a deleted
    assert a.live_items("items") == {} and store.baseline("mirror") == {}
    assert hub_records(store, "a") == {} and hub_records(store, "b") == {}


async def test_delete_vs_edit_the_edit_wins_and_the_item_is_recreated(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    a.remove("items", a_id)
    b.edit("items", b_id, title="kept alive on b")
    await sync(two_way_pair(), {"a": a, "b": b}, store)
    (new_a_id, recreated), = a.live_items("items").items()
    assert new_a_id != a_id
    assert isinstance(recreated.body, WorkItem) and recreated.body.title == "kept alive on b"
    assert {r.a_id: r.b_id for r in store.baseline("mirror").values()} == {new_a_id: b_id}


async def test_delete_vs_edit_under_source_wins_the_source_deletion_wins(
    store: SqlStore, sides: Sides
) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b, "source_wins")
    a.remove("items", a_id)
    b.edit("items", b_id, title="edited on b")
    await sync(two_way_pair("source_wins"), {"a": a, "b": b}, store)
    assert a.live_items("items") == {} and b.live_items("items") == {}


@pytest.mark.parametrize("error", [PreconditionFailed("412"), TransientError("503"), SkippableRecord("bad")])
async def test_a_failed_write_leaves_the_baseline_so_the_next_run_retries(
    store: SqlStore, sides: Sides, error: Exception
) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    before = store.baseline("mirror")[a_id]
    a.edit("items", a_id, title="edit to carry over")
    b.faults.fail_next("update", 1, lambda: error)
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.failed) == (RunStatus.SUCCEEDED, 1)
    assert store.baseline("mirror")[a_id] == before
    assert title(b, b_id) == "original"
    retry = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (retry.updated, retry.failed) == (1, 0)
    assert title(b, b_id) == "edit to carry over"


async def test_a_failed_create_is_retried_without_a_duplicate(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a.add("items", "beta", WorkItem(key="K-9", title="new"))
    b.faults.fail_next("create", 1, lambda: TransientError("503"))
    first = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert first.failed == 1 and b.live_items("items") == {}
    await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert len(b.live_items("items")) == 1 and len(a.live_items("items")) == 1


async def test_a_flaky_version_on_the_target_is_not_propagated(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    b.bump_version("items", b_id)
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.updated, run.unchanged) == (0, 2)  # b's feed: our own create, then the flaky bump
    assert a.item("items", a_id).version == 1
    assert store.baseline("mirror")[a_id].b_version == "2"
    a.edit("items", a_id, title="after the flake")  # the next write to b must use b's new version
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.failed, title(b, b_id)) == (0, "after the flake")


async def test_a_config_error_on_a_write_fails_the_run_loudly(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a.add("items", "alpha", WorkItem(key="K-1", title="new"))
    b.faults.fail_next("create", 1, lambda: ConfigError("403 write scope missing"))
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.error_class) == (RunStatus.FAILED, "config")


async def test_the_write_phase_is_skipped_when_a_side_failed_to_pull(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a.add("items", "alpha", WorkItem(key="K-1", title="new"))
    b.faults.fail_next("read_changes", 3, lambda: TransientError("503"))
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert run.status is RunStatus.FAILED and "two_way_skipped:incomplete_pull" in run.flags
    assert b.live_items("items") == {}
