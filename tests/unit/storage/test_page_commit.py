"""A page of records written in one statement behaves as the same records written one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Record, RecordKind, SourceRef, Tombstone, WorkItem, content_hash, hub_id_for
from app.storage import CursorKey, DuplicateSourceKey, SqlStore
from app.storage.protocol import DerivedLink
from app.sync.apply import commit_page
from app.sync.prepare import Outcome, Prepared

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


@pytest.fixture
def store(any_store: SqlStore) -> SqlStore:
    return any_store


def issue(n: int, *, title: str = "Fix login", version: str = "1") -> Record:
    body = WorkItem(key=f"CHK-{n}", title=title, description="Users cannot log in", status="To Do")
    return Record(
        hub_id=hub_id_for("jira-main", "issues", str(n)),
        kind=RecordKind.WORK_ITEM,
        source=SourceRef(system="jira", connector="jira-main", stream="issues", external_id=str(n), partition="CHK"),
        source_version=version,
        content_hash=content_hash(body),
        updated_at_source=T0,
        fetched_at=T0 + timedelta(minutes=1),
        body=body,
        raw={"id": str(n)},
    )


def written(rec: Record) -> Prepared:
    return Prepared(rec.hub_id, rec.source.external_id, Outcome.CREATED, record=rec)


def deleted(rec: Record) -> Prepared:
    return Prepared(rec.hub_id, rec.source.external_id, Outcome.DELETED, tombstone=Tombstone(deleted_at=T0))


def commit(store: SqlStore, *page: Prepared) -> None:
    commit_page(store, page, key=CursorKey("jira-main", "issues", "CHK"), cursor_after="c1", run_id="run-1")


def test_a_page_of_records_is_stored_as_written_one_by_one(store: SqlStore) -> None:
    page = [issue(n, title=f"Issue {n}") for n in range(1, 251)]

    with store.transaction() as tx:
        tx.upsert_records(page, "run-7")

    assert store.get_records([r.hub_id for r in page]) == {r.hub_id: r for r in page}
    assert store.record_lineage(page[0].hub_id) == "run-7"
    assert [r.hub_id for r in store.find_by_natural_key(RecordKind.WORK_ITEM, "CHK-42")] == [page[41].hub_id]


def test_a_page_replaces_stored_records(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.upsert_records([issue(1), issue(2)], "run-1")
    newer = [issue(1, title="Renamed", version="2"), issue(2, title="Also renamed", version="2")]

    with store.transaction() as tx:
        tx.upsert_records(newer, "run-2")

    assert store.get_records([r.hub_id for r in newer]) == {r.hub_id: r for r in newer}
    assert store.record_lineage(newer[1].hub_id) == "run-2"


def test_a_record_named_twice_in_a_page_ends_as_its_last_version(store: SqlStore) -> None:
    first, last = issue(1, title="First"), issue(1, title="Last", version="2")

    with store.transaction() as tx:
        tx.upsert_records([first, issue(2), last], "run-1")

    assert store.get_record(first.hub_id) == last
    assert store.count_records() == 2


def test_a_page_reusing_a_stored_source_key_under_another_hub_id_is_refused_whole(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.upsert_records([issue(1)], "run-1")
    impostor = issue(1).model_copy(update={"hub_id": "another-id"})

    with pytest.raises(DuplicateSourceKey, match="jira-main/issues/1"), store.transaction() as tx:
        tx.upsert_records([issue(2), impostor], "run-2")

    assert store.get_record("another-id") is None
    assert store.get_record(issue(2).hub_id) is None
    assert store.get_record(issue(1).hub_id) == issue(1)


def test_a_record_deleted_then_written_again_in_one_page_ends_live(store: SqlStore) -> None:
    commit(store, written(issue(1)))
    back = issue(1, title="Back", version="3")

    commit(store, written(issue(2)), deleted(issue(1)), written(back))

    assert store.get_record(back.hub_id) == back
    assert store.count_records() == 2


def test_a_record_written_then_deleted_in_one_page_ends_deleted(store: SqlStore) -> None:
    commit(store, written(issue(1)))

    commit(store, written(issue(1, title="Edited", version="2")), deleted(issue(1)), written(issue(2)))

    got = store.get_record(issue(1).hub_id)
    assert got is not None and got.deleted and got.body.title == "Edited"  # type: ignore[union-attr]
    assert store.count_records() == 1
    assert store.get_cursor(CursorKey("jira-main", "issues", "CHK")) is not None


def test_key_refs_and_links_dropped_for_a_large_page_are_all_gone(store: SqlStore) -> None:
    page = [issue(n) for n in range(1, 301)]
    ids = [r.hub_id for r in page]
    with store.transaction() as tx:
        tx.upsert_records(page, "run-1")
        tx.set_key_refs("mention", {h: [f"CHK-{i}", "CHK-9999"] for i, h in enumerate(ids)})
        tx.replace_links("mention", {h: [DerivedLink(h, ids[0], "mentions")] for h in ids[1:]})
        tx.put_link(ids[1], ids[0], "relates", "other-rule")  # another rule's row is left alone
    with store.transaction() as tx:
        assert len(tx.key_refs_to("mention", ["CHK-9999"])) == 300

    with store.transaction() as tx:
        tx.set_key_refs("mention", {h: ["CHK-9999"] if h == ids[5] else [] for h in ids})
        tx.replace_links("mention", {h: [] for h in ids[1:]})

    with store.transaction() as tx:
        assert [m.hub_id for m in tx.key_refs_to("mention", ["CHK-9999", "CHK-5"])] == [ids[5]]
    assert [(x.from_record, x.derived_by) for x in store.links_for(ids[0])] == [(ids[1], "other-rule")]
