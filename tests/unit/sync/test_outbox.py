"""The two-way outbox: a crash at any point neither duplicates an item nor loses a write."""

from __future__ import annotations

import pytest

from app.connectors.memory import MemoryConnector, SimulatedCrash
from app.errors import PreconditionFailed, TransientError
from app.models import WorkItem
from app.storage import RunStatus, SqlStore
from app.sync.outbox import MAX_ATTEMPTS, OutboxWrite, idempotency_key

from .support import FakeClock, Sides, hub_records, memory, sync, title, two_sides, two_way_pair


@pytest.fixture
def sides() -> Sides:
    return two_sides()


def statuses(store: SqlStore) -> list[str]:
    return sorted(item.status for item in store.outbox_list(limit=1000))


async def mirrored(store: SqlStore, a: MemoryConnector, b: MemoryConnector) -> tuple[str, str]:
    a_id = a.add("items", "alpha", WorkItem(key="K-1", title="original"))
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.failed) == (RunStatus.SUCCEEDED, 0), run
    return a_id, store.baseline("mirror")[a_id].b_id


async def test_a_crash_after_the_remote_create_and_before_the_commit_does_not_duplicate_the_item(
    store: SqlStore, sides: Sides
) -> None:
    a, b = sides
    a_id = a.add("items", "alpha", WorkItem(key="K-1", title="made once"))
    b.faults.crash_after_write("create")
    with pytest.raises(SimulatedCrash):
        await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert len(b.live_items("items")) == 1 and store.baseline("mirror") == {}
    assert statuses(store) == ["pending"]

    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.failed) == (RunStatus.SUCCEEDED, 0), run
    (b_id, made), = b.live_items("items").items()
    assert list(a.live_items("items")) == [a_id]  # b's copy was not mirrored back as a new item
    assert store.baseline("mirror")[a_id].b_id == b_id and title(b, b_id) == "made once"
    assert statuses(store) == ["done"]
    assert hub_records(store, "b")[b_id].source_version == str(made.version)

    quiet = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (quiet.created, quiet.updated, quiet.deleted, quiet.failed) == (0, 0, 0, 0)


@pytest.mark.parametrize("failure", ["crash", "transient"])
async def test_a_retried_create_on_a_tool_without_idempotent_creates_finds_what_the_first_attempt_made(
    store: SqlStore, failure: str
) -> None:
    # b is like Slack: a second create with the same key makes a second record, unless the hub
    # tells it that an earlier attempt may have made one (then it looks the key up first).
    clock = FakeClock()
    a, b = memory("a", clock=clock), memory("b", clock=clock, keyed_creates=False)
    a.add("items", "alpha", WorkItem(key="K-1", title="made once"))
    if failure == "crash":
        b.faults.crash_after_write("create")
        with pytest.raises(SimulatedCrash):
            await sync(two_way_pair(), {"a": a, "b": b}, store)
    else:  # made, then the answer was lost: the run sees a transient failure
        b.faults.fail_after_write("create", lambda: TransientError("502 after the write"))
        failed = await sync(two_way_pair(), {"a": a, "b": b}, store)
        assert failed.failed == 1
    assert len(b.live_items("items")) == 1 and statuses(store) == ["pending"]

    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.failed) == (RunStatus.SUCCEEDED, 0), run
    assert len(b.live_items("items")) == 1 and len(a.live_items("items")) == 1
    assert statuses(store) == ["done"]


async def test_a_first_create_on_a_tool_without_idempotent_creates_does_not_look_for_an_earlier_one(
    store: SqlStore,
) -> None:
    clock = FakeClock()
    a, b = memory("a", clock=clock), memory("b", clock=clock, keyed_creates=False)
    a.add("items", "alpha", WorkItem(key="K-1", title="first"))
    first = await b.create("items", "alpha", WorkItem(key="K-1", title="x"), "o", idempotency_key="k1")
    again = await b.create("items", "alpha", WorkItem(key="K-1", title="x"), "o", idempotency_key="k1")
    assert first.external_id != again.external_id  # the fake honours "no idempotent create"
    told = await b.create("items", "alpha", WorkItem(key="K-1", title="x"), "o", idempotency_key="k1",
                          earlier_attempt_since=clock())
    assert told.adopted and told.external_id == again.external_id


async def test_a_retried_create_with_the_same_key_adopts_the_existing_item(sides: Sides) -> None:
    _, b = sides
    body = WorkItem(key="K-1", title="once")
    first = await b.create("items", "alpha", body, "passerelle:mirror", idempotency_key="k1")
    retried = await b.create("items", "alpha", body, "passerelle:mirror", idempotency_key="k1")
    other = await b.create("items", "alpha", body, "passerelle:mirror", idempotency_key="k2")
    assert (retried.external_id, retried.adopted, first.adopted) == (first.external_id, True, False)
    assert other.external_id != first.external_id
    assert len(b.live_items("items")) == 2


async def test_an_adopted_create_edited_since_is_read_afresh_not_overwritten(
    store: SqlStore, sides: Sides
) -> None:
    a, b = sides
    a_id = a.add("items", "alpha", WorkItem(key="K-1", title="from a"))
    b.faults.crash_after_write("create")
    with pytest.raises(SimulatedCrash):
        await sync(two_way_pair(), {"a": a, "b": b}, store)
    (b_id, _), = b.live_items("items").items()
    b.edit("items", b_id, title="edited on b before the hub recovered")
    await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert title(a, a_id) == title(b, b_id) == "edited on b before the hub recovered"
    assert len(a.live_items("items")) == len(b.live_items("items")) == 1


async def test_a_stale_precondition_leaves_the_item_for_the_next_plan(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    before = store.baseline("mirror")[a_id]
    a.edit("items", a_id, title="edit to carry over")
    b.faults.fail_next("update", 1, lambda: PreconditionFailed("412"))
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.failed) == (RunStatus.SUCCEEDED, 1)
    assert store.baseline("mirror")[a_id] == before
    superseded, = store.outbox_list(status="superseded")
    assert superseded.last_error is not None and superseded.last_error.startswith("PreconditionFailed")
    retry = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (retry.updated, retry.failed) == (1, 0)  # the same write, queued again under its released key
    assert title(b, b_id) == "edit to carry over"


async def test_a_crash_after_an_update_is_not_replayed_over_a_newer_edit(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    a.edit("items", a_id, title="written before the crash")
    b.faults.crash_after_write("update")
    with pytest.raises(SimulatedCrash):
        await sync(two_way_pair(), {"a": a, "b": b}, store)
    b.edit("items", b_id, title="newer edit on b")
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.failed) == (RunStatus.SUCCEEDED, 0), run  # a superseded leftover is no failure
    assert title(a, a_id) == title(b, b_id) == "newer edit on b"
    assert statuses(store) == ["done", "done", "superseded"]  # create, update b->a; the replay dropped


async def test_a_crash_after_a_delete_finishes_the_delete_at_the_next_run(store: SqlStore, sides: Sides) -> None:
    a, b = sides
    a_id, b_id = await mirrored(store, a, b)
    a.remove("items", a_id)
    b.faults.crash_after_write("delete")
    with pytest.raises(SimulatedCrash):
        await sync(two_way_pair(), {"a": a, "b": b}, store)
    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.status, run.failed) == (RunStatus.SUCCEEDED, 0)
    assert b.live_items("items") == {} and store.baseline("mirror") == {}
    assert hub_records(store, "b", live=False)[b_id].deleted


async def test_outbox_leftovers_of_a_crashed_run_are_applied_at_the_next_run(
    store: SqlStore, sides: Sides
) -> None:
    a, b = sides
    for n in range(3):
        a.add("items", "beta", WorkItem(key=f"K-{n}", title=f"item {n}"))
    b.faults.fail_next("create", 1, lambda: SimulatedCrash("died before the first create"))
    with pytest.raises(SimulatedCrash):
        await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert b.live_items("items") == {} and statuses(store) == ["pending"] * 3

    run = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (run.created, run.failed) == (3, 0)  # the crashed run had already pulled a's three items
    assert sorted(title(b, i) for i in b.live_items("items")) == ["item 0", "item 1", "item 2"]
    assert len(a.live_items("items")) == 3 and statuses(store) == ["done"] * 3


async def test_a_pending_create_holds_back_creates_from_the_side_it_writes_to(
    store: SqlStore, sides: Sides
) -> None:
    a, b = sides
    a.add("items", "alpha", WorkItem(key="K-1", title="from a"))
    b.faults.fail_next("create", 2, lambda: TransientError("503"))
    await sync(two_way_pair(), {"a": a, "b": b}, store)
    b.add("items", "alpha", WorkItem(key="K-2", title="from b"))
    held = await sync(two_way_pair(), {"a": a, "b": b}, store)
    # b's new item waits (it could be the unrecognised result of the pending create), and so does
    # the pending create's own step: the leftover already retried it.
    assert "two_way_held:2" in held.flags and len(a.live_items("items")) == 1
    done = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert done.failed == 0
    assert len(a.live_items("items")) == len(b.live_items("items")) == 2


async def test_a_write_failing_transiently_becomes_a_dead_letter_and_a_new_plan_revives_it(
    store: SqlStore, sides: Sides
) -> None:
    a, b = sides
    a.add("items", "alpha", WorkItem(key="K-1", title="stubborn"))
    b.faults.fail_next("create", MAX_ATTEMPTS, lambda: TransientError("503"))
    for _ in range(MAX_ATTEMPTS):
        run = await sync(two_way_pair(), {"a": a, "b": b}, store)
        assert run.failed == 1
    dead, = store.outbox_list(status="dead")
    assert (dead.attempts, dead.operation) == (MAX_ATTEMPTS, "create")
    healed = await sync(two_way_pair(), {"a": a, "b": b}, store)
    assert (healed.failed, len(b.live_items("items"))) == (0, 1)
    assert statuses(store) == ["done"]


def test_a_queued_write_survives_its_payload_round_trip_and_keys_it_stably() -> None:
    write = OutboxWrite("create", "b", "alpha", body=WorkItem(key="K-1", title="x"))
    again = OutboxWrite.from_payload(write.to_payload())
    assert again == write
    assert idempotency_key("mirror", write) == idempotency_key("mirror", again)
    assert idempotency_key("mirror", write) != idempotency_key("other", write)
