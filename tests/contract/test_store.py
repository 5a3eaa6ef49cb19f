"""The store contract: one behaviour suite every backend passes (SQLite file and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app.models import (
    Message,
    Record,
    RecordKind,
    SourceRef,
    Tombstone,
    WorkItem,
    content_hash,
    hub_id_for,
)
from app.models.envelope import DeleteReason
from app.storage import (
    BaselineRow,
    CursorKey,
    DuplicateSourceKey,
    RecordQuery,
    RunRecord,
    RunStatus,
    SchemaOutOfDate,
    SqlStore,
    check_schema,
    create_store,
    records,
    upgrade,
)
from app.storage.rows import StoredState

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


class FakeClock:
    """The store's clock, moved by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[SqlStore]:
    s = create_store(store_url, migrate=True, now=clock)
    yield s
    s.close()


@pytest.fixture
def second_store(store: SqlStore, store_url: str, clock: FakeClock) -> Iterator[SqlStore]:
    """Another store on the same database with its own engine, like a second process."""
    s = create_store(store_url, now=clock)
    yield s
    s.close()


def issue(
    external_id: str,
    *,
    title: str = "Fix login",
    connector: str = "jira-main",
    partition: str = "CHK",
    updated: datetime = T0,
    version: str = "1",
) -> Record:
    body = WorkItem(key=f"CHK-{external_id}", title=title, description="Users cannot log in", status="To Do")
    return Record(
        hub_id=hub_id_for(connector, "issues", external_id),
        kind=RecordKind.WORK_ITEM,
        source=SourceRef(
            system="jira",
            connector=connector,
            stream="issues",
            external_id=external_id,
            partition=partition,
            url=f"https://jira.example/browse/CHK-{external_id}",
        ),
        source_version=version,
        content_hash=content_hash(body),
        created_at=updated - timedelta(days=1),
        updated_at_source=updated,
        fetched_at=updated + timedelta(minutes=1),
        body=body,
        raw={"id": external_id, "fields": {"summary": title, "labels": ["été"]}},
    )


def message(ts: str, text_: str, *, channel: str = "C1", updated: datetime = T0) -> Record:
    body = Message(channel=channel, ts=ts, text=text_)
    return Record(
        hub_id=hub_id_for("slack-team", "messages", f"{channel}:{ts}"),
        kind=RecordKind.MESSAGE,
        source=SourceRef(
            system="slack",
            connector="slack-team",
            stream="messages",
            external_id=f"{channel}:{ts}",
            partition=channel,
        ),
        source_version=ts,
        content_hash=content_hash(body),
        updated_at_source=updated,
        fetched_at=updated,
        body=body,
    )


def put(store: SqlStore, *recs: Record, run_id: str | None = "run-1") -> None:
    with store.transaction() as tx:
        for rec in recs:
            tx.upsert_record(rec, run_id=run_id)


# --- records -----------------------------------------------------------------------------------


def test_record_round_trips_with_utc_datetimes_and_raw_payload(store: SqlStore) -> None:
    paris = timezone(timedelta(hours=1))
    rec = issue("10001", updated=datetime(2026, 3, 2, 10, 15, tzinfo=paris))
    put(store, rec)

    got = store.get_record(rec.hub_id)

    assert got == rec
    assert got is not None and got.updated_at_source is not None
    assert got.updated_at_source.utcoffset() == timedelta(0)
    assert got.updated_at_source == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert got.raw["fields"]["labels"] == ["été"]


def test_upsert_replaces_the_record_and_records_who_wrote_it(store: SqlStore) -> None:
    put(store, issue("10001", title="Old"), run_id="run-1")
    put(store, issue("10001", title="New", version="2"), run_id="run-2")

    got = store.get_record(hub_id_for("jira-main", "issues", "10001"))
    assert got is not None
    assert isinstance(got.body, WorkItem) and got.body.title == "New"
    assert got.source_version == "2"
    assert store.record_lineage(got.hub_id) == "run-2"
    assert store.count_records() == 1


def test_tombstone_keeps_the_last_body_and_only_applies_to_live_records(store: SqlStore) -> None:
    rec = issue("10001")
    put(store, rec)
    gone = Tombstone(deleted_at=T0 + timedelta(hours=2), reason=DeleteReason.TRASHED)

    with store.transaction() as tx:
        first = tx.tombstone_record(rec.hub_id, gone, run_id="run-9")
        again = tx.tombstone_record(rec.hub_id, gone, run_id="run-9")
        unknown = tx.tombstone_record("no-such-id", gone)

    assert (first, again, unknown) == (True, False, False)
    got = store.get_record(rec.hub_id)
    assert got is not None and got.tombstone == gone
    assert got.body == rec.body
    assert store.record_lineage(rec.hub_id) == "run-9"
    assert store.count_records() == 0
    assert store.count_records(include_deleted=True) == 1


def test_two_hub_ids_cannot_share_one_source_key(store: SqlStore) -> None:
    rec = issue("10001")
    put(store, rec)
    impostor = rec.model_copy(update={"hub_id": "another-id"})

    with pytest.raises(DuplicateSourceKey), store.transaction() as tx:
        tx.upsert_record(impostor)

    assert store.get_record("another-id") is None
    assert store.get_record(rec.hub_id) == rec


def test_failed_transaction_leaves_neither_records_nor_cursor(store: SqlStore) -> None:
    key = CursorKey("jira-main", "issues", "CHK")

    with pytest.raises(RuntimeError, match="crash mid-page"), store.transaction() as tx:
        tx.upsert_record(issue("10001"))
        tx.set_cursor(key, "cursor-after-page")
        raise RuntimeError("crash mid-page")

    assert store.count_records(include_deleted=True) == 0
    assert store.get_cursor(key) is None


def test_get_records_returns_the_known_ones_including_tombstoned(store: SqlStore) -> None:
    a, b = issue("1"), issue("2")
    put(store, a, b)
    with store.transaction() as tx:
        tx.tombstone_record(b.hub_id, Tombstone(deleted_at=T0))

    got = store.get_records([a.hub_id, b.hub_id, "missing"])

    assert set(got) == {a.hub_id, b.hub_id}
    assert got[b.hub_id].deleted


def test_stored_states_give_version_hash_partition_and_deletion_of_the_known_ones(store: SqlStore) -> None:
    a, b, c = issue("1", version="v1"), issue("2", version="v2"), issue("3", partition="OTHER")
    put(store, a, b, c)
    with store.transaction() as tx:
        tx.tombstone_record(b.hub_id, Tombstone(deleted_at=T0))

    got = store.stored_states([a.hub_id, b.hub_id, c.hub_id, "missing", a.hub_id])

    assert got == {
        a.hub_id: StoredState("v1", a.content_hash, "CHK", deleted=False),
        b.hub_id: StoredState("v2", b.content_hash, "CHK", deleted=True),
        c.hub_id: StoredState(c.source_version, c.content_hash, "OTHER", deleted=False),
    }


def test_live_refs_list_one_partitions_live_records_with_versions(store: SqlStore) -> None:
    put(store, issue("1", version="v1"), issue("2", version="v2"), issue("3"), issue("9", partition="OTHER"))
    with store.transaction() as tx:
        tx.tombstone_record(hub_id_for("jira-main", "issues", "3"), Tombstone(deleted_at=T0))

    assert store.live_refs("jira-main", "issues", "CHK") == {"1": "v1", "2": "v2"}
    assert store.live_refs("jira-main", "issues", "NONE") == {}


def test_live_refs_fetched_until_keeps_the_records_written_at_or_before_that_instant(store: SqlStore) -> None:
    early, late = issue("1", version="v1"), issue("2", version="v2", updated=T0 + timedelta(hours=1))
    put(store, early, late)

    assert store.live_refs("jira-main", "issues", "CHK", fetched_until=early.fetched_at) == {"1": "v1"}
    assert store.live_refs("jira-main", "issues", "CHK", fetched_until=early.fetched_at - timedelta(seconds=1)) == {}
    assert store.live_refs("jira-main", "issues", "CHK", fetched_until=late.fetched_at) == {"1": "v1", "2": "v2"}


def test_search_filters_by_kind_connector_text_and_time_newest_first(store: SqlStore) -> None:
    old = issue("1", title="Login page broken", updated=T0 - timedelta(days=3))
    new = issue("2", title="Signup flow", updated=T0)
    other = issue("3", title="Login on mobile", connector="jira-other", updated=T0 - timedelta(days=1))
    chat = message(
        "1700000000.000100", "Who owns the LOGIN bug? 100% sure it's CHK-1", updated=T0 - timedelta(hours=1)
    )
    put(store, old, new, other, chat)

    def ids(**kw: Any) -> list[str]:
        return [r.hub_id for r in store.search_records(RecordQuery(**kw))]

    assert ids() == [new.hub_id, chat.hub_id, other.hub_id, old.hub_id]
    assert ids(kind=RecordKind.MESSAGE) == [chat.hub_id]
    assert ids(connector="jira-main") == [new.hub_id, old.hub_id]
    assert ids(system="slack") == [chat.hub_id]
    assert set(ids(text="login")) == {old.hub_id, other.hub_id, chat.hub_id}
    assert ids(text="100%") == [chat.hub_id]
    assert ids(text="10_%") == []
    assert set(ids(updated_since=T0 - timedelta(days=1))) == {new.hub_id, other.hub_id, chat.hub_id}
    assert ids(connector="jira-main", limit=1, offset=1) == [old.hub_id]


def test_search_hides_tombstones_unless_asked(store: SqlStore) -> None:
    rec = issue("1")
    put(store, rec)
    with store.transaction() as tx:
        tx.tombstone_record(rec.hub_id, Tombstone(deleted_at=T0))

    assert store.search_records(RecordQuery()) == []
    assert [r.hub_id for r in store.search_records(RecordQuery(include_deleted=True))] == [rec.hub_id]


def test_iter_records_streams_every_record_in_batches(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "ITER_BATCH", 3)
    recs = [issue(str(i)) for i in range(8)]
    put(store, *recs, message("1.0", "hi"))
    with store.transaction() as tx:
        tx.tombstone_record(recs[0].hub_id, Tombstone(deleted_at=T0))

    streamed = store.iter_records("jira-main", "issues")

    assert sorted(r.hub_id for r in streamed) == sorted(r.hub_id for r in recs)
    live = {r.hub_id for r in store.iter_records("jira-main", include_deleted=False)}
    assert live == {r.hub_id for r in recs[1:]}


def test_links_are_idempotent_and_found_from_both_ends(store: SqlStore) -> None:
    a, b, c = issue("1"), issue("2"), message("1.0", "CHK-1")
    put(store, a, b, c)
    with store.transaction() as tx:
        tx.put_link(c.hub_id, a.hub_id, "mentions", "jira-key-mention")
        tx.put_link(c.hub_id, a.hub_id, "mentions", "jira-key-mention")
        tx.put_link(a.hub_id, b.hub_id, "mirrors", "pair")

    from_a = {(link.from_record, link.to_record, link.kind) for link in store.links_for(a.hub_id)}

    assert from_a == {(c.hub_id, a.hub_id, "mentions"), (a.hub_id, b.hub_id, "mirrors")}
    assert [link.derived_by for link in store.links_for(c.hub_id)] == ["jira-key-mention"]
    assert store.links_for(c.hub_id)[0].created_at == T0


# --- cursors -----------------------------------------------------------------------------------


def test_cursor_round_trips_and_remembers_the_last_full_sync(store: SqlStore, clock: FakeClock) -> None:
    key = CursorKey("gcal", "events", "team@example.com")
    with store.transaction() as tx:
        tx.set_cursor(key, "sync-token-1", full_sync_done=True)
    clock.advance(60)
    with store.transaction() as tx:
        tx.set_cursor(key, "sync-token-2")
        tx.set_cursor(CursorKey("jira-main", "issues", "CHK"), None)

    got = store.get_cursor(key)

    assert got is not None
    assert (got.value, got.updated_at, got.last_full_sync_at) == (
        "sync-token-2",
        T0 + timedelta(seconds=60),
        T0,
    )
    assert [c.key for c in store.list_cursors("gcal")] == [key]
    assert len(store.list_cursors()) == 2
    assert store.get_cursor(CursorKey("jira-main", "issues", "CHK")) is not None


# --- runs --------------------------------------------------------------------------------------


def test_runs_are_saved_updated_and_listed_newest_first(store: SqlStore) -> None:
    first = RunRecord(
        run_id="r1", pair_id="jira-to-hub", trigger="schedule", started_at=T0, cursor_before={"CHK": None}
    )
    second = RunRecord(
        run_id="r2", pair_id="jira-to-hub", trigger="webhook", started_at=T0 + timedelta(minutes=5)
    )
    third = RunRecord(
        run_id="r3", pair_id="slack-to-hub", trigger="admin", started_at=T0 + timedelta(minutes=9)
    )
    for run in (first, second, third):
        store.save_run(run)
    first.status = RunStatus.SUSPICIOUS_MASS_DELETE
    first.finished_at = T0 + timedelta(seconds=42)
    first.created, first.api_calls, first.full = 3, 7, True
    first.cursor_after = {"CHK": "1767225600000"}
    first.flags = ["mass_delete:CHK"]
    first.error_class, first.error = "transient", "boom"
    store.save_run(first)

    got = store.get_run("r1")

    assert got == first
    assert got is not None and got.duration_s == 42.0
    assert [r.run_id for r in store.list_runs()] == ["r3", "r2", "r1"]
    assert [r.run_id for r in store.list_runs(pair_id="jira-to-hub")] == ["r2", "r1"]
    assert [r.run_id for r in store.list_runs(status=RunStatus.RUNNING)] == ["r3", "r2"]
    assert [r.run_id for r in store.list_runs(limit=1)] == ["r3"]
    assert store.get_run("nope") is None


# --- leases ------------------------------------------------------------------------------------


def test_lease_is_exclusive_until_it_expires(store: SqlStore, clock: FakeClock) -> None:
    assert store.acquire_lease("pair:jira", "worker-a", ttl_s=30)
    assert not store.acquire_lease("pair:jira", "worker-b", ttl_s=30)
    assert store.acquire_lease("pair:other", "worker-b", ttl_s=30)

    clock.advance(29)
    assert store.acquire_lease("pair:jira", "worker-a", ttl_s=30)  # renewal
    clock.advance(29)
    assert not store.acquire_lease("pair:jira", "worker-b", ttl_s=30)  # renewed, so still held
    clock.advance(2)
    assert store.acquire_lease("pair:jira", "worker-b", ttl_s=30)  # expired: taken over
    assert not store.acquire_lease("pair:jira", "worker-a", ttl_s=30)


def test_release_frees_the_lease_but_only_for_its_owner(store: SqlStore) -> None:
    assert store.acquire_lease("pair:jira", "worker-a", ttl_s=300)
    store.release_lease("pair:jira", "worker-b")
    assert not store.acquire_lease("pair:jira", "worker-b", ttl_s=300)
    store.release_lease("pair:jira", "worker-a")
    assert store.acquire_lease("pair:jira", "worker-b", ttl_s=300)


def test_racing_acquirers_on_separate_connections_elect_one_owner(
    store: SqlStore, second_store: SqlStore
) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def race(s: SqlStore, owner: str) -> None:
        barrier.wait()
        if s.acquire_lease("pair:race", owner, ttl_s=60):
            winners.append(owner)

    threads = [threading.Thread(target=race, args=((store, second_store)[i % 2], f"w{i}")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(winners) == 1


def _race_in_process(url: str, owner: str, barrier: Any, results: Any) -> None:
    s = create_store(url)
    try:
        barrier.wait()
        results.put((owner, s.acquire_lease("pair:race", owner, ttl_s=60)))
    finally:
        s.close()


def test_processes_racing_for_a_lease_elect_one_owner(store: SqlStore, store_url: str) -> None:
    store.engine.dispose()  # no pooled connection may be inherited by the forked children
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=_race_in_process, args=(store_url, f"p{i}", barrier, results)) for i in range(4)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)

    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert sum(won for _, won in outcomes) == 1


# --- inbox -------------------------------------------------------------------------------------


def test_inbox_keeps_one_copy_per_source_and_delivery_id(store: SqlStore) -> None:
    assert store.inbox_put("jira", "d-1", {"X-Atlassian-Webhook-Identifier": "d-1"}, b'{"a":1}')
    assert not store.inbox_put("jira", "d-1", {"other": "headers"}, b"changed body")
    assert store.inbox_put("slack", "d-1", {}, b"\x00\xffbinary")

    items = {(i.source, i.delivery_id): i for i in store.inbox_list()}

    assert set(items) == {("jira", "d-1"), ("slack", "d-1")}
    assert items["jira", "d-1"].body == b'{"a":1}'
    assert items["jira", "d-1"].headers == {"X-Atlassian-Webhook-Identifier": "d-1"}
    assert items["slack", "d-1"].body == b"\x00\xffbinary"
    assert items["jira", "d-1"].received_at == T0


def test_claimed_inbox_rows_go_to_one_claimer_until_the_claim_expires(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    for n in range(3):
        store.inbox_put("jira", f"d-{n}", {}, b"{}")

    first = store.inbox_claim("worker-a", limit=2)
    second = second_store.inbox_claim("worker-b", limit=10)
    nothing_left = store.inbox_claim("worker-c")
    clock.advance(301)  # worker-a died without reporting back
    reclaimed = second_store.inbox_claim("worker-c")

    assert [i.delivery_id for i in first] == ["d-0", "d-1"]
    assert [i.delivery_id for i in second] == ["d-2"]
    assert nothing_left == []
    assert {i.delivery_id for i in reclaimed} == {"d-0", "d-1", "d-2"}


def test_concurrent_claimers_never_get_the_same_inbox_row(store: SqlStore, second_store: SqlStore) -> None:
    for n in range(60):
        store.inbox_put("slack", f"d-{n}", {}, b"{}")
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def claimer(s: SqlStore, owner: str) -> None:
        barrier.wait()
        mine: list[int] = []
        while batch := s.inbox_claim(owner, limit=3):
            mine.extend(i.id for i in batch)
        claimed[owner] = mine

    threads = [
        threading.Thread(target=claimer, args=((store, second_store)[i % 2], f"w{i}")) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == 60
    assert len(set(every)) == 60


def test_inbox_failure_waits_for_its_retry_time_then_dead_letters_and_admin_retries(
    store: SqlStore, clock: FakeClock
) -> None:
    store.inbox_put("graph", "d-1", {}, b"{}")
    [item] = store.inbox_claim("w")

    store.inbox_failed(item.id, "vendor 503", retry_at=T0 + timedelta(seconds=30))
    not_yet = store.inbox_claim("w")
    clock.advance(30)
    [again] = store.inbox_claim("w")
    store.inbox_failed(again.id, "still 503", retry_at=None)
    dead = store.inbox_list(status="dead")
    after_dead = store.inbox_claim("w")

    assert not_yet == []
    assert again.attempts == 1 and again.last_error == "vendor 503"
    assert again.next_attempt_at == T0 + timedelta(seconds=30)
    assert [(d.id, d.attempts, d.last_error) for d in dead] == [(item.id, 2, "still 503")]
    assert after_dead == []
    assert store.inbox_retry(item.id)
    assert not store.inbox_retry(item.id)  # no longer dead
    [revived] = store.inbox_claim("w")
    store.inbox_done(revived.id)
    assert [i.status for i in store.inbox_list()] == ["done"]
    assert store.inbox_claim("w") == []


# --- outbox ------------------------------------------------------------------------------------


def test_outbox_queues_each_idempotency_key_once(store: SqlStore) -> None:
    with store.transaction() as tx:
        assert tx.enqueue_outbox("two-way", "gcal", "events", "update", "key-1", {"title": "Stand-up"})
        assert not tx.enqueue_outbox("two-way", "gcal", "events", "update", "key-1", {"title": "other"})
        assert tx.enqueue_outbox("two-way", "gcal", "events", "delete", "key-2", {})

    items = store.outbox_list()

    assert sorted(i.idempotency_key for i in items) == ["key-1", "key-2"]
    assert next(i for i in items if i.idempotency_key == "key-1").payload == {"title": "Stand-up"}


def test_outbox_rows_are_claimed_retried_and_finished(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    with store.transaction() as tx:
        tx.enqueue_outbox("p", "gcal", "events", "create", "k1", {"n": 1})
        tx.enqueue_outbox("p", "gcal", "events", "create", "k2", {"n": 2})

    a = store.outbox_claim("w1", limit=1)
    b = second_store.outbox_claim("w2")
    store.outbox_failed(a[0].id, "429", retry_at=T0 + timedelta(seconds=5))
    second_store.outbox_done(b[0].id)
    early = store.outbox_claim("w1")
    clock.advance(5)
    late = store.outbox_claim("w1")
    store.outbox_failed(late[0].id, "400 bad request", retry_at=None)

    assert [i.idempotency_key for i in a] == ["k1"]
    assert [i.idempotency_key for i in b] == ["k2"]
    assert early == []
    assert [(i.idempotency_key, i.attempts) for i in late] == [("k1", 1)]
    assert [i.idempotency_key for i in store.outbox_list(status="dead")] == ["k1"]
    assert [i.idempotency_key for i in store.outbox_list(status="done")] == ["k2"]


# --- baselines ---------------------------------------------------------------------------------


def test_baseline_rows_are_stored_per_pair_and_deleted(store: SqlStore) -> None:
    row = BaselineRow("two-way", "a-1", "b-1", "etag-1", "h1", None, "h2", T0)
    with store.transaction() as tx:
        tx.put_baseline(row)
        tx.put_baseline(BaselineRow("two-way", "a-2", "b-2", None, "h3", "ck", "h4", T0))
        tx.put_baseline(BaselineRow("other", "a-1", "b-9", None, "h5", None, "h6", T0))
    updated = BaselineRow("two-way", "a-1", "b-1", "etag-2", "h7", "ck2", "h8", T0 + timedelta(hours=1))
    with store.transaction() as tx:
        tx.put_baseline(updated)
        tx.delete_baseline("two-way", "a-2")

    assert dict(store.baseline("two-way")) == {"a-1": updated}
    assert set(store.baseline("other")) == {"a-1"}
    assert dict(store.baseline("nobody")) == {}


# --- people ------------------------------------------------------------------------------------


def test_accounts_with_the_same_verified_email_are_one_person(store: SqlStore) -> None:
    jira = store.upsert_account("jira", "5b10a", "Ada@Example.com", True, "Ada Lovelace")
    slack = store.upsert_account("slack", "U01", "ada@example.com", True, "ada")
    again = store.upsert_account("jira", "5b10a", "ada@example.com", True, "Ada L.")

    assert jira == slack == again
    [person] = store.list_people()
    assert person["person_id"] == jira
    assert person["display_name"] == "Ada Lovelace"
    assert person["emails"] == ["ada@example.com"]
    assert {(a["system"], a["account_id"]) for a in person["accounts"]} == {
        ("jira", "5b10a"),
        ("slack", "U01"),
    }


def test_an_unverified_email_never_merges_accounts(store: SqlStore) -> None:
    real = store.upsert_account("google", "g-1", "ada@example.com", True, "Ada")
    claim = store.upsert_account("slack", "U99", "ada@example.com", False, "Not Ada")
    no_email = store.upsert_account("outlook", "o-1", None, False, None)

    assert len({real, claim, no_email}) == 3
    assert len(store.list_people()) == 3


def test_an_override_pins_an_account_to_a_person(store: SqlStore) -> None:
    ada = store.upsert_account("google", "g-1", "ada@example.com", True, "Ada")
    other = store.upsert_account("slack", "U7", "ada.l@example.org", True, "ada-l")
    assert other != ada

    store.set_identity_override("slack", "U7", ada)
    later = store.upsert_account("slack", "U7", "ada.l@example.org", True, "ada-l")
    pinned_first = store.upsert_account("outlook", "o-1", "x@example.com", True, "X")
    store.set_identity_override("jira", "new-acct", ada)
    pinned_before_seen = store.upsert_account("jira", "new-acct", "someone@else.com", True, "S")

    assert later == ada
    assert pinned_before_seen == ada
    assert pinned_first not in (ada, other)
    people = {p["person_id"]: p for p in store.list_people()}
    assert other not in people  # left without accounts, so gone
    assert {a["system"] for a in people[ada]["accounts"]} == {"google", "slack", "jira"}


# --- lifecycle and schema ----------------------------------------------------------------------


def test_ping_answers_true_on_a_live_database(store: SqlStore) -> None:
    assert store.ping()


def test_an_unmigrated_database_is_refused(store_url: str) -> None:
    assert not check_schema(store_url)
    with pytest.raises(SchemaOutOfDate, match="db upgrade"):
        create_store(store_url)

    upgrade(store_url)

    assert check_schema(store_url)
    create_store(store_url).close()


def test_a_database_at_an_unknown_revision_is_refused(store: SqlStore, store_url: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from-the-future'"))

    assert not check_schema(store_url)
    with pytest.raises(SchemaOutOfDate, match="does not know"):
        create_store(store_url)


def test_upgrading_twice_is_a_no_op(store_url: str) -> None:
    upgrade(store_url)
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        upgrade(store_url)
        with engine.connect() as conn:
            after = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()

    assert before == after and len(after) == 1
    assert check_schema(store_url)
