"""Records stored before derivation existed: natural keys by the migration, links by ``rederive``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.models import Message, RecordKind, WorkItem
from app.storage import SqlStore, create_store, upgrade
from app.storage.engine import make_engine
from app.sync.derive import MENTION_RULE, rederive
from app.sync.prepare import build_record

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_rederive_links_records_that_were_stored_without_derivation(store: SqlStore) -> None:
    item = build_record(
        connector="jira",
        system="jira",
        stream="issues",
        kind=RecordKind.WORK_ITEM,
        partition="CHK",
        external_id="10012",
        version="1",
        body=WorkItem(key="CHK-12", title="t"),
        fetched_at=AT,
    )
    msg = build_record(
        connector="slack",
        system="slack",
        stream="messages",
        kind=RecordKind.MESSAGE,
        partition="C1",
        external_id="C1:1.0",
        version="1",
        body=Message(channel="C1", ts="1.0", text="CHK-12?"),
        fetched_at=AT,
    )
    with store.transaction() as tx:  # a bare upsert, as the hub wrote before derivation existed
        tx.upsert_record(item)
        tx.upsert_record(msg)
    assert store.links_for(msg.hub_id) == []

    counts = rederive(store, ["slack", "jira"], batch_size=1)
    again = rederive(store, ["slack", "jira"])

    assert (counts.live, counts.deleted) == (again.live, again.deleted) == (2, 0)
    assert [(x.from_record, x.to_record, x.derived_by) for x in store.links_for(item.hub_id)] == [
        (msg.hub_id, item.hub_id, MENTION_RULE)
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


def _event(start: str, end: str, **more: str) -> dict[str, Any]:
    return {
        "kind": "calendar_event",
        "calendar": "c",
        "title": "t",
        "ical_uid": "uid-1",
        "start": start,
        "end": end,
        **more,
    }


def test_the_migration_fills_natural_keys_of_rows_stored_before_it(url: str) -> None:
    upgrade(url, "0002")
    bodies = {
        "w": ("work_item", {"kind": "work_item", "key": "CHK-7", "title": "t"}),
        "e": ("calendar_event", _event("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")),
        "o": (
            "calendar_event",
            _event("2026-03-09T10:00:00+01:00", "2026-03-09T11:00:00+01:00", series_id="m"),
        ),
        "m": ("message", {"kind": "message", "channel": "C", "ts": "1", "text": "CHK-7"}),
    }
    rows = sa.table(
        "records",
        *(
            sa.column(c)
            for c in (
                "hub_id",
                "kind",
                "system",
                "connector",
                "stream",
                "external_id",
                "content_hash",
                "fetched_at",
                "updated_at",
            )
        ),
        sa.column("body", sa.JSON),
        sa.column("raw", sa.JSON),
    )
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            rows.insert(),
            [
                {
                    "hub_id": h,
                    "kind": kind,
                    "system": "s",
                    "connector": "c",
                    "stream": "st",
                    "external_id": h,
                    "content_hash": "x",
                    "fetched_at": AT,
                    "updated_at": AT,
                    "body": body,
                    "raw": {},
                }
                for h, (kind, body) in bodies.items()
            ],
        )
    engine.dispose()

    store = create_store(url, migrate=True)
    try:
        assert [r.hub_id for r in store.find_by_natural_key(RecordKind.WORK_ITEM, "CHK-7")] == ["w"]
        assert [r.hub_id for r in store.find_by_natural_key(RecordKind.CALENDAR_EVENT, "uid-1")] == ["e"]
        assert [
            r.hub_id for r in store.find_by_natural_key(RecordKind.CALENDAR_EVENT, "uid-1#20260309T090000Z")
        ] == ["o"]
    finally:
        store.close()
