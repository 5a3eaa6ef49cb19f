"""``Store.inbox_put_many``: a group commit of deliveries, duplicate-safe on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from app.storage.store import SqlStore


@pytest.fixture
def store(any_store: SqlStore) -> SqlStore:
    return any_store


def test_put_many_flags_new_and_duplicate_deliveries_in_order(store: SqlStore) -> None:
    assert store.inbox_put("jira", "d-1", {}, b"first")

    flags = store.inbox_put_many(
        [
            ("jira", "d-2", {"h": "2"}, b"two"),
            ("jira", "d-1", {}, b"changed"),  # stored before
            ("slack", "d-1", {}, b"\x00\xff"),  # same id, other source
            ("jira", "d-2", {}, b"again"),  # earlier in this batch
        ]
    )

    assert flags == [True, False, True, False]
    items = {(i.source, i.delivery_id): i for i in store.inbox_list()}
    assert set(items) == {("jira", "d-1"), ("jira", "d-2"), ("slack", "d-1")}
    assert items["jira", "d-1"].body == b"first"
    assert items["jira", "d-2"].body == b"two" and items["jira", "d-2"].headers == {"h": "2"}
    assert items["slack", "d-1"].body == b"\x00\xff"
    assert all(i.status == "pending" and i.attempts == 0 for i in items.values())


def test_put_many_of_nothing_writes_nothing(store: SqlStore) -> None:
    assert store.inbox_put_many([]) == []
    assert store.inbox_list() == []


def test_a_failed_put_many_stores_none_of_its_deliveries(store: SqlStore) -> None:
    with pytest.raises(TypeError):
        # A body that is not bytes fails inside the transaction, after a good row was inserted.
        store.inbox_put_many([("jira", "ok", {}, b"{}"), ("jira", "bad", {}, object())])  # type: ignore[list-item]
    assert store.inbox_list() == []


def test_a_large_batch_with_duplicates_round_trips_headers_bodies_and_time(store: SqlStore) -> None:
    # More rows than one multi-row INSERT carries, repeats across and within the batch, and
    # header values that a serializer could mangle (non-ASCII, quotes, backslashes).
    assert store.inbox_put("slack", "e0", {}, b"stored before")
    ids = [f"e{n % 250}" for n in range(300)]
    headers = {"x-slack-signature": "v0=ab", "x-note": 'ünï "quoted" \\ ✓'}

    flags = store.inbox_put_many([("slack", d, headers, d.encode() + b"\x00\xff") for d in ids])

    assert flags == [d != "e0" for d in ids[:250]] + [False] * 50
    items = {i.delivery_id: i for i in store.inbox_list(limit=1000)}
    assert len(items) == 250
    assert items["e0"].body == b"stored before"
    assert items["e7"].body == b"e7\x00\xff" and items["e7"].headers == headers
    batch_times = {i.received_at for d, i in items.items() if d != "e0"}
    assert len(batch_times) == 1 and next(iter(batch_times)).utcoffset() is not None
