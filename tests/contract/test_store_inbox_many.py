"""``Store.inbox_put_many``: a group commit of deliveries, duplicate-safe on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.storage import create_store
from app.storage.store import SqlStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[SqlStore]:
    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    s = create_store(str(url), migrate=True)
    yield s
    s.close()


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
