"""Deletes the mass-delete guard held back: recorded per partition, applied once an admin approves
as many as vanished, held again when more vanished, forgotten when the source recovers."""

from __future__ import annotations

from app.settings import SyncSettings
from app.storage import CursorKey, RunStatus, SqlStore

from .support import hub_records, memory, pull_pair, sync

ALPHA = CursorKey("src", "items", "alpha")


async def _lose(store: SqlStore, lost: int) -> tuple[object, list[str]]:
    """A synced partition of 10 that then loses ``lost`` items, noticed only by a census."""
    src = memory("src", items=10, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    gone = sorted(src.live_items("items"))[:lost]
    for external_id in gone:
        src.remove("items", external_id)
    src.invalidate_cursors("items", "alpha")  # the next run reads in full and counts
    return src, gone


async def test_a_tripped_guard_records_what_it_held_back(store: SqlStore) -> None:
    src, _ = await _lose(store, 8)
    run = await sync(pull_pair(), {"src": src}, store)
    assert run.status is RunStatus.SUSPICIOUS_MASS_DELETE
    held = store.held_deletes(ALPHA)
    assert held is not None
    assert (held.missing, held.approved_up_to) == (8, None)
    assert "8 of 10 records (80%) would vanish" in held.reason
    assert [h.key for h in store.list_held_deletes("src")] == [ALPHA]


async def test_approved_deletes_are_made_by_the_next_run_even_when_no_census_is_due(store: SqlStore) -> None:
    src, gone = await _lose(store, 8)
    await sync(pull_pair(), {"src": src}, store)
    assert store.approve_held_deletes(ALPHA, 8) is not None

    run = await sync(pull_pair(), {"src": src}, store)
    assert run.status is RunStatus.SUCCEEDED
    assert run.deleted == 8
    assert "mass_delete_approved:src/items/alpha" in run.flags
    assert set(hub_records(store, "src")).isdisjoint(gone) and len(hub_records(store, "src")) == 2
    assert store.held_deletes(ALPHA) is None, "done: nothing is held any more"
    later = await sync(pull_pair(), {"src": src}, store)
    assert later.status is RunStatus.SUCCEEDED and "census" not in later.flags, "back to the census schedule"


async def test_more_vanished_than_approved_is_held_again(store: SqlStore) -> None:
    src, _ = await _lose(store, 8)
    await sync(pull_pair(), {"src": src}, store)
    store.approve_held_deletes(ALPHA, 6)

    run = await sync(pull_pair(), {"src": src}, store)
    assert run.status is RunStatus.SUSPICIOUS_MASS_DELETE and run.deleted == 0
    assert len(hub_records(store, "src")) == 10
    held = store.held_deletes(ALPHA)
    assert held is not None and (held.missing, held.approved_up_to) == (8, 6)


async def test_a_source_that_recovers_releases_what_was_held(store: SqlStore) -> None:
    src = memory("src", items=4, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store)
    src.faults.list_nothing = True
    run = await sync(pull_pair(), {"src": src}, store, full=True)
    assert run.status is RunStatus.SUSPICIOUS_MASS_DELETE
    assert store.held_deletes(ALPHA) is not None
    src.faults.list_nothing = False

    run = await sync(pull_pair(), {"src": src}, store)  # the full read's census is redone every run
    assert (run.status, run.deleted) == (RunStatus.SUCCEEDED, 0)
    assert store.held_deletes(ALPHA) is None
    assert len(hub_records(store, "src")) == 4


def test_nothing_held_cannot_be_approved(store: SqlStore) -> None:
    assert store.approve_held_deletes(ALPHA, 3) is None
    assert store.list_held_deletes() == []


async def test_an_approval_brings_the_census_forward(store: SqlStore) -> None:
    every_other = SyncSettings(census_every_runs=2)
    src = memory("src", items=4, partitions={"items": ["alpha"]})
    await sync(pull_pair(), {"src": src}, store, every_other)  # a first full read: census done
    assert "census" not in (await sync(pull_pair(), {"src": src}, store, every_other)).flags
    src.faults.list_nothing = True  # the calendar was emptied on purpose; only a census can tell
    held = await sync(pull_pair(), {"src": src}, store, every_other)
    assert held.status is RunStatus.SUSPICIOUS_MASS_DELETE
    store.approve_held_deletes(ALPHA, 4)

    run = await sync(pull_pair(), {"src": src}, store, every_other)  # no census would be due
    assert (run.status, run.deleted) == (RunStatus.SUCCEEDED, 4)
    assert "census" in run.flags
    assert hub_records(store, "src") == {}
