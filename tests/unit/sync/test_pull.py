"""Pulling a source into the hub: counts, cursors, crash safety, dead cursors, failures, leases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog

from app.connectors.base import Page
from app.connectors.memory import MemoryConnector, SimulatedCrash
from app.errors import PermissionDenied, TransientError
from app.models import DeleteReason, WorkItem
from app.settings import MemorySettings
from app.storage import CursorKey, RunStatus, SqlStore

from .support import hub_records, memory, pull_pair, sync


def item(n: int, title: str = "task") -> WorkItem:
    return WorkItem(key=f"K-{n}", title=f"{title} {n}")


async def test_a_first_run_creates_every_record_and_stores_a_cursor_per_partition(store: SqlStore) -> None:
    src = memory("src", items=6)
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.created, run.updated, run.failed) == (RunStatus.SUCCEEDED, 6, 0, 0)
    assert set(hub_records(store, "src")) == set(src.live_items("items"))
    for partition in ("alpha", "beta"):
        state = store.get_cursor(CursorKey("src", "items", partition))
        assert state is not None and state.value is not None and state.last_full_sync_at is not None
        assert run.cursor_before[f"src/items/{partition}"] is None
        assert run.cursor_after[f"src/items/{partition}"] == state.value


async def test_a_run_without_source_changes_counts_nothing(store: SqlStore) -> None:
    src = memory("src", items=6)
    await sync(pull_pair(), {"src": src}, store)
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.created, run.updated, run.deleted, run.unchanged) == (0, 0, 0, 0)


async def test_an_edit_counts_as_one_update_and_the_hub_holds_the_new_content(store: SqlStore) -> None:
    src = memory("src", items=4)
    await sync(pull_pair(), {"src": src}, store)
    target = sorted(src.live_items("items"))[0]
    src.edit("items", target, title="renamed")
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.updated, run.created) == (1, 0)
    stored = hub_records(store, "src")[target]
    assert isinstance(stored.body, WorkItem) and stored.body.title == "renamed"
    assert stored.source_version == "2"


async def test_a_flaky_version_with_the_same_content_counts_as_unchanged(store: SqlStore) -> None:
    src = memory("src", items=4)
    await sync(pull_pair(), {"src": src}, store)
    target = sorted(src.live_items("items"))[0]
    src.bump_version("items", target)
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.updated, run.unchanged) == (0, 1)
    assert hub_records(store, "src")[target].source_version == "2"  # later comparisons start from it


async def test_a_tombstone_in_the_feed_soft_deletes_the_record_and_keeps_its_body(store: SqlStore) -> None:
    src = memory("src", items=4)
    await sync(pull_pair(), {"src": src}, store)
    target = sorted(src.live_items("items"))[0]
    body = src.item("items", target).body
    src.remove("items", target)
    run = await sync(pull_pair(), {"src": src}, store)
    assert run.deleted == 1
    stored = hub_records(store, "src", live=False)[target]
    assert stored.tombstone is not None and stored.tombstone.reason is DeleteReason.DELETED
    assert stored.body == body


async def test_a_crash_after_page_2_resumes_at_page_3_without_duplicates(store: SqlStore) -> None:
    src = memory("src", page_size=2, partitions={"items": ["alpha"]})
    pair = pull_pair()
    await sync(pair, {"src": src}, store)
    added = [src.add("items", "alpha", item(n)) for n in range(8)]  # four pages of two
    src.faults.crash_after_pages(2)
    with pytest.raises(SimulatedCrash):
        await sync(pair, {"src": src}, store)
    assert set(hub_records(store, "src")) == set(added[:4])
    key = CursorKey("src", "items", "alpha")
    state = store.get_cursor(key)
    assert state is not None
    assert [c.external_id for c in src.changes_since("items", "alpha", state.value)] == added[4:]

    run = await sync(pair, {"src": src}, store)
    assert (run.status, run.created, run.updated, run.unchanged) == (RunStatus.SUCCEEDED, 4, 0, 0)
    assert set(hub_records(store, "src")) == set(added)
    assert store.count_records("src", include_deleted=True) == 8


async def test_a_crash_during_a_first_full_read_loses_nothing(store: SqlStore) -> None:
    src = memory("src", items=10, page_size=2, partitions={"items": ["alpha"]})
    src.faults.crash_after_pages(3)
    with pytest.raises(SimulatedCrash):
        await sync(pull_pair(), {"src": src}, store)
    assert len(hub_records(store, "src")) == 6
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.created, run.unchanged) == (4, 0)
    assert set(hub_records(store, "src")) == set(src.live_items("items"))


async def test_a_dead_cursor_resyncs_only_its_partition(store: SqlStore) -> None:
    src = memory("src", items=10)
    await sync(pull_pair(), {"src": src}, store)
    beta_before = store.get_cursor(CursorKey("src", "items", "beta"))
    assert beta_before is not None
    src.invalidate_cursors("items", "alpha")
    beta_item = sorted(src.live_items("items", "beta"))[0]
    src.edit("items", beta_item, title="beta edit")
    run = await sync(pull_pair(), {"src": src}, store)
    assert run.status is RunStatus.SUCCEEDED
    assert "cursor_invalidated:src/items/alpha" in run.flags
    assert not any("beta" in f for f in run.flags)
    # alpha was re-read in full (5 unchanged records), beta incrementally (just the edit)
    assert (run.unchanged, run.updated) == (5, 1)
    assert run.cursor_before["src/items/beta"] == beta_before.value
    alpha = store.get_cursor(CursorKey("src", "items", "alpha"))
    assert alpha is not None and alpha.value is not None
    assert [c for c in src.changes_since("items", "alpha", alpha.value)] == []


async def test_a_census_infers_a_delete_the_feed_never_reported(store: SqlStore) -> None:
    src = memory("src", items=10)
    await sync(pull_pair(), {"src": src}, store)
    gone = sorted(src.live_items("items", "alpha"))[0]
    src.remove("items", gone)
    src.invalidate_cursors("items", "alpha")  # the tombstone falls into the dead cursor's gap
    listings = src.calls["list_refs"]
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.deleted, run.unchanged) == (RunStatus.SUCCEEDED, 1, 4)
    assert "census" in run.flags
    assert src.calls["list_refs"] == listings + 1  # the hub held records older than the read: listed
    assert gone not in hub_records(store, "src")


async def test_a_first_full_read_into_an_empty_hub_needs_no_id_listing(store: SqlStore) -> None:
    src = memory("src", items=10, page_size=2)
    run = await sync(pull_pair(), {"src": src}, store)
    # Every record was written by this read: none older can have vanished unseen.
    assert (run.status, run.created, run.deleted) == (RunStatus.SUCCEEDED, 10, 0)
    assert src.calls["list_refs"] == 0
    assert "census" in run.flags
    for partition in ("alpha", "beta"):
        state = store.get_cursor(CursorKey("src", "items", partition))
        assert state is not None and state.value is not None and not state.value.startswith("full-read|")


async def test_a_full_resync_first_drains_the_feed_so_deletes_are_facts_not_inferences(
    store: SqlStore
) -> None:
    src = memory("src", items=4, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    for external_id in list(src.live_items("items")):
        src.remove("items", external_id)  # the whole partition empties: a census alone would refuse
    run = await sync(pull_pair(), {"src": src}, store, full=True)
    assert (run.status, run.deleted) == (RunStatus.SUCCEEDED, 4)
    assert hub_records(store, "src") == {}
    state = store.get_cursor(CursorKey("src", "items", "alpha"))
    assert state is not None and state.last_full_sync_at is not None


async def test_a_source_that_lists_nothing_deletes_nothing_and_flags_the_run(store: SqlStore) -> None:
    src = memory("src", items=4)
    await sync(pull_pair(), {"src": src}, store)
    src.faults.list_nothing = True
    run = await sync(pull_pair(), {"src": src}, store, full=True)
    assert run.status is RunStatus.SUSPICIOUS_MASS_DELETE
    expected = {"suspicious_mass_delete:src/items/alpha", "suspicious_mass_delete:src/items/beta"}
    assert expected <= set(run.flags)
    assert run.deleted == 0
    assert len(hub_records(store, "src")) == 4


async def test_losing_80_percent_of_a_partition_deletes_nothing(store: SqlStore) -> None:
    src = memory("src", items=10, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    for external_id in sorted(src.live_items("items"))[:8]:
        src.remove("items", external_id)
    src.invalidate_cursors("items", "alpha")  # only the census can notice the loss
    run = await sync(pull_pair(), {"src": src}, store)
    assert run.status is RunStatus.SUSPICIOUS_MASS_DELETE
    assert run.deleted == 0 and len(hub_records(store, "src")) == 10


async def test_losing_a_share_under_the_limit_deletes_those_records(store: SqlStore) -> None:
    src = memory("src", items=10, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    gone = sorted(src.live_items("items"))[:2]
    for external_id in gone:
        src.remove("items", external_id)
    src.invalidate_cursors("items", "alpha")
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.deleted) == (RunStatus.SUCCEEDED, 2)
    assert not set(gone) & set(hub_records(store, "src"))


async def test_a_permission_error_fails_the_run_with_error_class_config(store: SqlStore) -> None:
    src = memory("src", items=4)
    src.faults.fail_next("read_changes", 1, lambda: PermissionDenied("missing scope read:jira-work"))
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.error_class) == (RunStatus.FAILED, "config")
    assert run.error is not None and "read:jira-work" in run.error
    assert store.get_run(run.run_id) == run
    assert store.count_records("src") == 0


async def test_revoked_credentials_fail_the_run_loudly_and_keep_the_hub(store: SqlStore) -> None:
    src = memory("src", items=4)
    await sync(pull_pair(), {"src": src}, store)
    src.faults.revoked = True
    run = await sync(pull_pair(), {"src": src}, store, full=True)
    assert (run.status, run.error_class) == (RunStatus.FAILED, "config")
    assert len(hub_records(store, "src")) == 4


async def test_a_transient_failure_is_retried_from_the_last_committed_page(store: SqlStore) -> None:
    src = memory("src", items=10, page_size=2, partitions={"items": ["alpha"]})
    src.faults.fail_next("read_changes", 2, lambda: TransientError("503"))
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.created, run.unchanged) == (RunStatus.SUCCEEDED, 10, 0)


async def test_transient_failures_past_the_budget_fail_the_run_but_other_partitions_sync(
    store: SqlStore
) -> None:
    src = memory("src", items=6)
    # alpha uses up its three attempts (FAST_RETRY); beta reads fine
    src.faults.fail_next("read_changes", 3, lambda: TransientError("503"))
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.error_class) == (RunStatus.FAILED, "transient")
    assert set(hub_records(store, "src")) == set(src.live_items("items", "beta"))


async def test_an_unexpected_exception_fails_the_run_as_internal(store: SqlStore) -> None:
    src = memory("src", items=2)
    src.faults.fail_next("read_changes", 1, lambda: RuntimeError("bug in mapping"))
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.error_class) == (RunStatus.FAILED, "internal")


async def test_an_unknown_stream_fails_the_run_with_error_class_config(store: SqlStore) -> None:
    run = await sync(pull_pair(stream="tickets"), {"src": memory("src")}, store)
    assert (run.status, run.error_class) == (RunStatus.FAILED, "config")


async def test_a_held_lease_skips_the_partition(store: SqlStore) -> None:
    src = memory("src", items=6)
    assert store.acquire_lease("sync:src:items:alpha", "another-runner", 60)
    run = await sync(pull_pair(), {"src": src}, store)
    assert run.status is RunStatus.SUCCEEDED
    assert "lease_held:src/items/alpha" in run.flags
    assert set(hub_records(store, "src")) == set(src.live_items("items", "beta"))


async def test_a_run_whose_every_partition_is_leased_elsewhere_is_skipped(store: SqlStore) -> None:
    src = memory("src", items=6)
    for partition in ("alpha", "beta"):
        assert store.acquire_lease(f"sync:src:items:{partition}", "another-runner", 60)
    run = await sync(pull_pair(), {"src": src}, store)
    assert run.status is RunStatus.SKIPPED
    assert store.count_records("src") == 0


async def test_leases_are_released_when_the_run_ends(store: SqlStore) -> None:
    await sync(pull_pair(), {"src": memory("src", items=2)}, store)
    assert store.acquire_lease("sync:src:items:alpha", "another-runner", 60)


async def test_the_run_record_is_saved_with_counts_api_calls_and_cursors(store: SqlStore) -> None:
    src = memory("src", items=5, page_size=2)
    run = await sync(pull_pair(), {"src": src}, store, trigger="admin")
    saved = store.get_run(run.run_id)
    assert saved == run
    assert saved.trigger == "admin" and saved.finished_at is not None and saved.duration_s is not None
    assert saved.api_calls == src.calls["read_changes"] + src.calls["list_refs"]
    assert set(saved.cursor_after) == {"src/items/alpha", "src/items/beta"}


async def test_the_census_runs_every_census_every_runs_runs(store: SqlStore) -> None:
    from app.settings import SyncSettings

    src = memory("src", items=2)
    settings = SyncSettings(census_every_runs=3)
    flags = [("census" in (await sync(pull_pair(), {"src": src}, store, settings)).flags) for _ in range(5)]
    assert flags == [True, False, False, True, False]


class _StopAfterFirstPage(MemoryConnector):
    """Asks the run to stop while handing out its first page (and records the log context it saw)."""

    stop: asyncio.Event
    seen_context: dict[str, Any]

    async def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        self.seen_context = dict(structlog.contextvars.get_contextvars())
        async for page in super().read_changes(stream, partition, cursor):
            self.stop.set()
            yield page


async def test_a_stop_request_ends_the_run_after_the_page_being_committed(store: SqlStore) -> None:
    src = _StopAfterFirstPage("src", MemorySettings(items=6), page_size=2)
    src.stop = asyncio.Event()
    run = await sync(pull_pair(), {"src": src}, store, stop=src.stop)
    assert run.status is RunStatus.SUCCEEDED and "stopped" in run.flags
    assert len(hub_records(store, "src")) == 2
    rest = await sync(pull_pair(), {"src": src}, store)  # nobody asks this run to stop
    assert (rest.status, rest.created, rest.unchanged) == (RunStatus.SUCCEEDED, 4, 0)
    assert set(hub_records(store, "src")) == set(src.live_items("items"))


async def test_progress_is_reported_after_every_committed_page(store: SqlStore) -> None:
    src = memory("src", items=8, page_size=2)
    seen: list[int] = []
    run = await sync(pull_pair(), {"src": src}, store, progress=lambda r: seen.append(r.created))
    assert len(seen) == src.calls["read_changes"] and seen[-1] == run.created == 8
    assert seen == sorted(seen)


async def test_the_run_binds_its_log_context(store: SqlStore) -> None:
    src = _StopAfterFirstPage("src", MemorySettings(items=2))
    src.stop = asyncio.Event()
    run = await sync(pull_pair(partitions=["beta"]), {"src": src}, store)
    assert src.seen_context == {"run_id": run.run_id, "pair": "pull", "connector": "src", "stream": "items",
                                "partition": "beta"}


async def test_a_full_read_resumed_after_a_crash_still_ends_with_its_census(store: SqlStore) -> None:
    src = memory("src", items=10, page_size=2, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    gone = sorted(src.live_items("items"))[-1]
    src.remove("items", gone)
    src.invalidate_cursors("items", "alpha")  # the tombstone falls into the gap: only a census can see it
    src.faults.crash_after_pages(1)
    with pytest.raises(SimulatedCrash):
        await sync(pull_pair(), {"src": src}, store)
    state = store.get_cursor(CursorKey("src", "items", "alpha"))
    assert state is not None and state.value is not None and state.value.startswith("full-read|")
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.deleted) == (RunStatus.SUCCEEDED, 1) and "census" in run.flags
    assert gone not in hub_records(store, "src")
    after = store.get_cursor(CursorKey("src", "items", "alpha"))
    assert after is not None and after.value is not None and not after.value.startswith("full-read|")


async def test_a_crash_between_a_full_read_and_its_census_still_leaves_the_census_to_do(store: SqlStore) -> None:
    src = memory("src", items=6, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    gone = sorted(src.live_items("items"))[0]
    src.remove("items", gone)
    src.invalidate_cursors("items", "alpha")  # the tombstone falls into the gap: only a census can see it
    src.faults.fail_next("list_refs", 1, lambda: SimulatedCrash("killed before the census"))
    with pytest.raises(SimulatedCrash):
        await sync(pull_pair(), {"src": src}, store)  # the full read completed, its census never ran
    state = store.get_cursor(CursorKey("src", "items", "alpha"))
    assert state is not None and state.value is not None and state.value.startswith("full-read|")
    assert gone in hub_records(store, "src")  # still live: only the census can tell it is gone
    run = await sync(pull_pair(), {"src": src}, store)
    assert (run.status, run.deleted) == (RunStatus.SUCCEEDED, 1) and "census" in run.flags
    assert gone not in hub_records(store, "src")


async def test_a_tripped_guard_is_raised_again_on_every_run_until_the_census_passes(store: SqlStore) -> None:
    src = memory("src", items=1, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    (only,) = src.live_items("items")
    src.remove("items", only)
    src.invalidate_cursors("items", "alpha")  # the partition empties inside a dead cursor's gap
    first = await sync(pull_pair(), {"src": src}, store)
    assert first.status is RunStatus.SUSPICIOUS_MASS_DELETE and first.deleted == 0
    state = store.get_cursor(CursorKey("src", "items", "alpha"))
    assert state is not None and state.value is not None and state.value.startswith("full-read|")
    # A later run (even one whose predecessor's record was lost to a crash) sees the guard again.
    again = await sync(pull_pair(), {"src": src}, store)
    assert again.status is RunStatus.SUSPICIOUS_MASS_DELETE
    assert "suspicious_mass_delete:src/items/alpha" in again.flags
    assert only in hub_records(store, "src")
    src.add("items", "alpha", item(99))  # the partition lists something again: the census may judge
    healed = await sync(pull_pair(), {"src": src}, store)
    assert (healed.status, healed.deleted, healed.created) == (RunStatus.SUCCEEDED, 1, 1)
    after = store.get_cursor(CursorKey("src", "items", "alpha"))
    assert after is not None and after.value is not None and not after.value.startswith("full-read|")
    assert after.last_full_sync_at is not None
