"""Retention: finished inbox and outbox rows are pruned after the retention period, in batches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from structlog.testing import capture_logs

from app.models import WorkItem
from app.settings import Settings
from app.storage import SqlStore, create_store
from app.storage.types import utcnow
from app.sync import SyncScheduler
from tests.unit.sync.support import hub_records, sync, two_sides, two_way_pair
from tests.waiting import eventually

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
KEEP = timedelta(days=7)
OLD = T0  # 10 days before the sweep
RECENT = T0 + timedelta(days=9)  # 1 day before the sweep
SWEEP = T0 + timedelta(days=10)


class Clock:
    """The store's clock, set by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[SqlStore]:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    hub = create_store(str(url), migrate=True, now=clock)
    yield hub
    hub.close()


def delivery(store: SqlStore, clock: Clock, at: datetime, delivery_id: str, status: str = "done") -> None:
    """A Slack delivery received at ``at`` and left in ``status``."""
    clock.current = at
    assert store.inbox_put(
        "slack", delivery_id, {"x-slack-signature": "v0=..."}, b'{"event_id":"' + delivery_id.encode() + b'"}'
    )
    [item] = [i for i in store.inbox_list(limit=10_000) if i.delivery_id == delivery_id]
    if status == "done":
        store.inbox_done(item.id)
    elif status == "dead":
        store.inbox_failed(item.id, "ConfigError: no such calendar", retry_at=None)


def write(store: SqlStore, clock: Clock, at: datetime, key: str, status: str = "done") -> None:
    """An outbox write queued at ``at`` and left in ``status``."""
    clock.current = at
    with store.transaction() as tx:
        assert tx.enqueue_outbox("mirror", "b", "items", "update", key, {"title": key})
    [item] = [i for i in store.outbox_claim_pair("mirror", "run-1") if i.idempotency_key == key]
    if status == "done":
        store.outbox_done(item.id)
    elif status == "superseded":
        with store.transaction() as tx:
            tx.outbox_supersede(item.id, "PreconditionFailed: version 3 is not 2")
    elif status == "dead":
        store.outbox_failed(item.id, "TransientError: 503", retry_at=None)


def inbox_ids(store: SqlStore) -> set[str]:
    return {i.delivery_id for i in store.inbox_list(limit=10_000)}


def outbox_titles(store: SqlStore) -> set[str]:
    return {str(i.payload["title"]) for i in store.outbox_list(limit=10_000)}


def test_finished_rows_older_than_the_retention_go_and_newer_ones_stay(store: SqlStore, clock: Clock) -> None:
    delivery(store, clock, OLD, "Ev-old")
    delivery(store, clock, RECENT, "Ev-recent")
    write(store, clock, OLD, "old-done")
    write(store, clock, OLD, "old-superseded", "superseded")
    write(store, clock, RECENT, "recent-done")
    write(store, clock, RECENT, "recent-superseded", "superseded")

    clock.current = SWEEP
    pruned = store.prune_finished(KEEP)

    assert (pruned.inbox, pruned.outbox, pruned.stopped) == (1, 2, False)
    assert inbox_ids(store) == {"Ev-recent"}
    assert outbox_titles(store) == {"recent-done", "recent-superseded"}


def test_pending_and_dead_rows_stay_whatever_their_age(store: SqlStore, clock: Clock) -> None:
    delivery(store, clock, OLD, "Ev-pending", "pending")
    delivery(store, clock, OLD, "Ev-dead", "dead")
    write(store, clock, OLD, "pending", "pending")
    write(store, clock, OLD, "dead", "dead")

    clock.current = SWEEP + timedelta(days=365)
    pruned = store.prune_finished(KEEP)

    assert (pruned.inbox, pruned.outbox) == (0, 0)
    assert {(i.delivery_id, i.status) for i in store.inbox_list()} == {("Ev-pending", "pending"), ("Ev-dead", "dead")}
    assert {(i.idempotency_key, i.status) for i in store.outbox_list()} == {("pending", "pending"), ("dead", "dead")}


def test_more_rows_than_one_batch_are_deleted_one_transaction_per_batch(store: SqlStore, clock: Clock) -> None:
    for n in range(25):
        delivery(store, clock, OLD + timedelta(seconds=n), f"Ev-{n:02}")
    delivery(store, clock, RECENT, "Ev-recent")
    commits: list[None] = []
    event.listen(store.engine, "commit", lambda _conn: commits.append(None))

    clock.current = SWEEP
    pruned = store.prune_finished(KEEP, batch_size=10)

    assert (pruned.inbox, pruned.outbox, pruned.stopped) == (25, 0, False)
    assert inbox_ids(store) == {"Ev-recent"}
    # inbox: 10 + 10 + 5 (that batch reached Ev-recent, inside the retention); outbox: one empty look
    assert len(commits) == 4


def test_a_stop_request_ends_the_pruning_between_batches(store: SqlStore, clock: Clock) -> None:
    for n in range(25):
        delivery(store, clock, OLD + timedelta(seconds=n), f"Ev-{n:02}")
    asked: list[None] = []

    def after_two_batches() -> bool:
        asked.append(None)
        return len(asked) > 2

    clock.current = SWEEP
    first = store.prune_finished(KEEP, batch_size=10, should_stop=after_two_batches)
    left = inbox_ids(store)
    rest = store.prune_finished(KEEP, batch_size=10)

    assert (first.inbox, first.outbox, first.stopped) == (20, 0, True)
    assert left == {f"Ev-{n}" for n in range(20, 25)}
    assert (rest.inbox, rest.stopped) == (5, False)
    assert inbox_ids(store) == set()


def test_finished_rows_behind_more_than_a_batch_of_dead_letters_are_pruned(store: SqlStore, clock: Clock) -> None:
    for n in range(25):
        delivery(store, clock, OLD + timedelta(seconds=n), f"Ev-dead-{n:02}", "dead")
    for n in range(5):
        delivery(store, clock, OLD + timedelta(minutes=1, seconds=n), f"Ev-done-{n}")

    clock.current = SWEEP
    pruned = store.prune_finished(KEEP, batch_size=10)

    assert pruned.inbox == 5
    assert inbox_ids(store) == {f"Ev-dead-{n:02}" for n in range(25)}


def test_a_redelivery_is_deduped_inside_the_retention_and_accepted_again_once_pruned(
    store: SqlStore, clock: Clock
) -> None:
    delivery(store, clock, OLD, "Ev-pruned")
    delivery(store, clock, RECENT, "Ev-kept")

    clock.current = SWEEP
    store.prune_finished(KEEP)

    assert not store.inbox_put("slack", "Ev-kept", {}, b"{}")  # still a duplicate
    assert store.inbox_put("slack", "Ev-pruned", {}, b"{}")  # the documented trade-off: new again
    assert [i.delivery_id for i in store.inbox_claim("worker")] == ["Ev-pruned"]


async def test_a_pruned_write_that_was_applied_is_never_made_again(tmp_path: Path) -> None:
    """The baseline committed with an applied write, not its outbox row, keeps it from repeating."""
    clock = Clock(utcnow())
    hub = create_store(f"sqlite:///{tmp_path / 'hub.db'}", migrate=True, now=clock)
    a, b = two_sides()
    a_id = a.add("items", "alpha", WorkItem(key="K-1", title="original"))
    try:
        await sync(two_way_pair(), {"a": a, "b": b}, hub)  # creates the item on b
        b_id = hub.baseline("mirror")[a_id].b_id
        b.edit("items", b_id, title="edited on b")
        await sync(two_way_pair(), {"a": a, "b": b}, hub)  # updates a from b
        assert [i.status for i in hub.outbox_list()] == ["done", "done"]
        versions = (a.item("items", a_id).version, b.item("items", b_id).version)

        clock.current += timedelta(days=8)
        assert hub.prune_finished(KEEP).outbox == 2
        run = await sync(two_way_pair(), {"a": a, "b": b}, hub)

        assert (run.created, run.updated, run.deleted, run.failed) == (0, 0, 0, 0)
        assert hub.outbox_list() == []  # nothing queued again
        assert (a.item("items", a_id).version, b.item("items", b_id).version) == versions
        assert list(hub_records(hub, "b")) == [b_id]
    finally:
        hub.close()


async def test_the_scheduler_prunes_on_its_interval_and_logs_what_it_pruned(tmp_path: Path) -> None:
    now = utcnow()
    clock = Clock()
    hub = create_store(f"sqlite:///{tmp_path / 'hub.db'}", migrate=True, now=clock)
    delivery(hub, clock, now - timedelta(days=2), "Ev-old")
    delivery(hub, clock, now - timedelta(hours=2), "Ev-recent")
    write(hub, clock, now - timedelta(days=2), "old-done")
    clock.current = now
    settings = Settings.model_validate({"retention": {"keep_finished_days": 1, "prune_interval_s": 0.05}})
    scheduler = SyncScheduler(settings, {}, hub)
    try:
        with capture_logs() as logs:
            scheduler.start()
            await eventually(lambda: any(e["event"] == "retention.pruned" for e in logs))
        first = next(e for e in logs if e["event"] == "retention.pruned")
        assert (first["inbox"], first["outbox"], first["stopped"]) == (1, 1, False)
        assert inbox_ids(hub) == {"Ev-recent"}
    finally:
        await scheduler.shutdown()
        hub.close()
