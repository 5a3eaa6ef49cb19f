"""What the record upsert's fast paths store: the same row as SQLAlchemy's own binding would,
and what the faster JSON serialiser refuses still stores."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from app.models import Record, RecordKind, SourceRef, Tombstone, WorkItem, content_hash, hub_id_for
from app.storage import SqlStore
from app.storage.records import _row_values
from app.storage.sql import _sqlite_utc_text, upsert
from app.storage.tables import records
from app.storage.types import UTCDateTime

PLUS_2 = timezone(timedelta(hours=2))
T0 = datetime(2026, 3, 2, 9, 15, 0, tzinfo=PLUS_2)


@pytest.fixture
def store(any_store: SqlStore) -> SqlStore:
    return any_store


def issue(external_id: str, raw: dict[str, Any], *, deleted: bool = False) -> Record:
    body = WorkItem(key=f"CHK-{external_id}", title="Café ☃ login", labels=("ui", "auth"), story_points=2.5)
    return Record(
        hub_id=hub_id_for("jira-main", "issues", external_id),
        kind=RecordKind.WORK_ITEM,
        source=SourceRef(system="jira", connector="jira-main", stream="issues", external_id=external_id,
                         partition="CHK"),
        source_version="v1",
        content_hash=content_hash(body),
        created_at=T0,  # microseconds 0: stored with them all the same
        updated_at_source=T0 + timedelta(microseconds=123_000),
        fetched_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        tombstone=Tombstone(deleted_at=T0) if deleted else None,
        body=body,
        raw=raw,
    )


@given(st.text(), st.text(), st.text())
def test_hub_ids_are_uuid5_of_the_source_key(connector: str, stream: str, external_id: str) -> None:
    namespace = uuid.UUID("5d1e0c39-3b0e-4f55-9d6c-7a8f2c1e9b42")
    expected = str(uuid.uuid5(namespace, f"{connector}\x1f{stream}\x1f{external_id}"))
    assert hub_id_for(connector, stream, external_id) == expected


@pytest.mark.parametrize("deleted", [False, True])
def test_the_stored_row_is_the_one_plain_binding_stores(store: SqlStore, deleted: bool) -> None:
    fast = issue("1", {"id": "1", "fields": {"summary": "Café", "n": [1, 2.5, None, True]}}, deleted=deleted)
    with store.transaction() as tx:
        tx.upsert_records([fast], "run-1")
        # The reference: the same values through SQLAlchemy's own JSON and datetime binding.
        plain = _row_values(fast, "run-1") | {"hub_id": "reference", "external_id": "reference"}
        plain["body"], plain["raw"] = json.loads(plain["body"]), json.loads(plain["raw"])
        upsert(tx._conn, records, plain, ["hub_id"])
        columns = [c.name for c in records.c if c.name not in ("hub_id", "external_id")]
        rows = {r[0]: r[1:] for r in tx._conn.execute(
            text(f"SELECT hub_id, {', '.join(columns)} FROM records"))}
    got, want = dict(zip(columns, rows[fast.hub_id], strict=True)), dict(zip(columns, rows["reference"], strict=True))
    for column in ("body", "raw"):  # JSON text may differ in spelling only, never in value
        got[column], want[column] = _as_value(got[column]), _as_value(want[column])
    assert got == want
    assert store.get_records([fast.hub_id])[fast.hub_id] == fast


def _as_value(stored: Any) -> Any:
    return json.loads(stored) if isinstance(stored, str) else stored


def test_a_raw_payload_the_fast_serialiser_refuses_is_stored(store: SqlStore) -> None:
    huge = 2**70  # beyond 64 bits: orjson refuses it, the standard library writes it
    rec = issue("2", {"id": "2", "count": huge, "by_number": {1: "an integer key"}})
    with store.transaction() as tx:
        tx.upsert_records([rec], "run-1")
    stored = store.get_records([rec.hub_id])[rec.hub_id]
    assert stored.raw == {"id": "2", "count": huge, "by_number": {"1": "an integer key"}}


def _stored(conn: Any, hub_id: str, columns: list[str]) -> dict[str, Any]:
    row = conn.execute(text(f"SELECT {', '.join(columns)} FROM records WHERE hub_id = :h"), {"h": hub_id}).one()
    out = dict(zip(columns, row, strict=True))
    for column in ("body", "raw"):
        out[column] = _as_value(out[column])
    return out


def test_a_page_written_over_stored_rows_stores_what_plain_binding_stores(store: SqlStore) -> None:
    """The update path of the driver-level upsert, with timestamps shared across rows and
    columns (processed once per distinct value) and a row named twice (the last one counts)."""
    shared = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    first = [issue(str(n), {"id": str(n)}) for n in range(3)]
    later = [
        first[0].model_copy(update={"source_version": "v2", "created_at": shared, "updated_at_source": None}),
        first[1].model_copy(update={"tombstone": Tombstone(deleted_at=shared)}),
        first[2].model_copy(update={"source_version": "stale"}),
        first[2].model_copy(update={"source_version": "v3", "created_at": None,
                                    "updated_at_source": T0 + timedelta(days=1, microseconds=7)}),
    ]
    columns = [c.name for c in records.c if c.name not in ("hub_id", "external_id")]
    with store.transaction() as tx:
        tx.upsert_records(first, "run-1")
        tx.upsert_records(later, "run-2")
        for rec in (later[0], later[1], later[3]):
            plain = _row_values(rec, "run-2") | {"hub_id": f"ref-{rec.hub_id}", "external_id": f"ref-{rec.hub_id}"}
            plain["body"], plain["raw"] = json.loads(plain["body"]), json.loads(plain["raw"])
            upsert(tx._conn, records, plain, ["hub_id"])
            assert _stored(tx._conn, rec.hub_id, columns) == _stored(tx._conn, f"ref-{rec.hub_id}", columns)
    got = store.get_records([r.hub_id for r in first])
    assert got[first[2].hub_id].source_version == "v3"
    assert got[first[1].hub_id].deleted


@given(st.datetimes(timezones=st.sampled_from([UTC, PLUS_2, timezone(timedelta(hours=-9, minutes=-30))]),
                    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_the_sqlite_timestamp_text_is_sqlalchemys(value: datetime) -> None:
    dialect = sqlite.dialect()
    reference = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert reference is not None
    assert _sqlite_utc_text(value) == reference(value)


def test_a_naive_timestamp_is_refused_on_sqlite() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        _sqlite_utc_text(datetime(2026, 3, 2, 9, 15))
