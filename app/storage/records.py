"""Unified records and the links between them: rows <-> ``Record``, queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import PasserelleError
from app.models import Record, Tombstone
from app.storage.engine import json_text
from app.storage.lookup import natural_key
from app.storage.protocol import LinkRow, RecordQuery, StoredState
from app.storage.sql import insert_ignore, upsert_many
from app.storage.tables import links, records

__all__ = [
    "DuplicateSourceKey",
    "count_records",
    "get_records",
    "iter_records",
    "links_for",
    "live_refs",
    "put_link",
    "record_lineage",
    "search_records",
    "stored_states",
    "tombstone_record",
    "upsert_record",
    "upsert_records",
]

ITER_BATCH = 500


class DuplicateSourceKey(PasserelleError):
    """Two hub ids claim the same (connector, stream, external id): a hub id was not derived with
    :func:`app.models.hub_id_for`."""


def _search_text(record: Record, body: Any) -> str:
    """Every string in the body (``body``: its JSON form) plus the external id, lower-cased:
    what text search matches."""
    parts: list[str] = [record.source.external_id]

    def walk(value: Any) -> None:
        # Depth first, in order; the type tests are inlined because a full sync walks every body.
        for item in value.values() if isinstance(value, dict) else value:
            kind = type(item)
            if kind is str:
                parts.append(item)
            elif kind is dict or kind is list or kind is tuple:
                walk(item)
            elif isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict | list | tuple):
                walk(item)

    if isinstance(body, str):
        parts.append(body)
    elif isinstance(body, dict | list | tuple):
        walk(body)
    return "\n".join(parts).lower()


_SERIALISED = ("body", "raw")
"""The JSON columns :func:`_row_values` hands over as text."""
_REPEATED = ("created_at", "updated_at_source", "fetched_at", "updated_at", "deleted_at")
"""Timestamps: a page's records share ``fetched_at``, and ``updated_at`` is one of the others."""


def _row_values(record: Record, writer: str | None) -> dict[str, Any]:
    src = record.source
    body = record.body.model_dump(mode="json")  # once: the column and the search text both need it
    return {
        "hub_id": record.hub_id,
        "kind": record.kind.value,
        "system": src.system,
        "connector": src.connector,
        "stream": src.stream,
        "partition": src.partition,
        "external_id": src.external_id,
        "url": src.url,
        "source_version": record.source_version,
        "content_hash": record.content_hash,
        "created_at": record.created_at,
        "updated_at_source": record.updated_at_source,
        "fetched_at": record.fetched_at,
        "updated_at": record.updated_at_source or record.fetched_at,
        "deleted_at": record.tombstone.deleted_at if record.tombstone else None,
        "delete_reason": record.tombstone.reason.value if record.tombstone else None,
        "last_writer": writer,
        "search_text": _search_text(record, body),
        "body": json_text(body),
        "raw": json_text(record.raw),
        "natural_key": natural_key(record),
    }


def _to_record(row: Row[Any]) -> Record:
    m = row._mapping
    tombstone = None
    if m["deleted_at"] is not None:
        tombstone = {"deleted_at": m["deleted_at"], "reason": m["delete_reason"]}
    return Record.model_validate(
        {
            "hub_id": m["hub_id"],
            "kind": m["kind"],
            "source": {
                "system": m["system"],
                "connector": m["connector"],
                "stream": m["stream"],
                "external_id": m["external_id"],
                "partition": m["partition"],
                "url": m["url"],
            },
            "source_version": m["source_version"],
            "content_hash": m["content_hash"],
            "created_at": m["created_at"],
            "updated_at_source": m["updated_at_source"],
            "fetched_at": m["fetched_at"],
            "tombstone": tombstone,
            "body": m["body"],
            "raw": m["raw"],
        }
    )


# --- writes (inside a transaction) -----------------------------------------------------------


def _upsert_rows(conn: Connection, batch: Sequence[Record], writer: str | None) -> None:
    upsert_many(conn, records, [_row_values(r, writer) for r in batch], ["hub_id"],
                serialised=_SERIALISED, repeated=_REPEATED)


def upsert_record(conn: Connection, record: Record, writer: str | None) -> None:
    # No savepoint: a clash is a bug in the caller, and the transaction it aborts rolls back.
    try:
        _upsert_rows(conn, [record], writer)
    except IntegrityError as exc:
        src = record.source
        raise DuplicateSourceKey(
            f"{src.connector}/{src.stream}/{src.external_id} is already stored under another hub id "
            f"than {record.hub_id}"
        ) from exc


def upsert_records(conn: Connection, batch: Sequence[Record], writer: str | None) -> None:
    """:func:`upsert_record` of each record in order, in one statement (a record named twice:
    the last one counts)."""
    if not batch:
        return
    try:
        _upsert_rows(conn, batch, writer)
    except IntegrityError as exc:
        keys = sorted({f"{r.source.connector}/{r.source.stream}/{r.source.external_id}" for r in batch})
        named = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        raise DuplicateSourceKey(f"one of {named} is already stored under another hub id ({exc.orig})") from exc


def tombstone_record(conn: Connection, hub_id: str, tombstone: Tombstone, writer: str | None) -> bool:
    result = conn.execute(
        update(records)
        .where(records.c.hub_id == hub_id, records.c.deleted_at.is_(None))
        .values(deleted_at=tombstone.deleted_at, delete_reason=tombstone.reason.value, last_writer=writer)
    )
    return result.rowcount == 1


def put_link(
    conn: Connection, from_record: str, to_record: str, kind: str, derived_by: str, now: datetime
) -> None:
    insert_ignore(
        conn,
        links,
        {
            "from_record": from_record,
            "to_record": to_record,
            "kind": kind,
            "derived_by": derived_by,
            "created_at": now,
        },
        ["from_record", "to_record", "kind"],
    )


# --- reads -------------------------------------------------------------------------------------


# Built once, the ids through one expanding parameter (``in_(list)`` built per call coerced
# every id into a literal of its own: a page's lookup cost more to build than to run).
_GET_RECORDS = select(records).where(records.c.hub_id.in_(bindparam("ids", expanding=True)))


def _rows_by_id(conn: Connection, stmt: Select[Any], hub_ids: Sequence[str]) -> Iterator[Row[Any]]:
    """The rows ``stmt`` selects for ``hub_ids`` (its expanding ``ids`` parameter), each id once."""
    ids = list(dict.fromkeys(hub_ids))
    # Chunked: SQLite caps the number of bound parameters per statement.
    for start in range(0, len(ids), ITER_BATCH):
        yield from conn.execute(stmt, {"ids": ids[start : start + ITER_BATCH]})


def get_records(conn: Connection, hub_ids: Sequence[str]) -> dict[str, Record]:
    found: dict[str, Record] = {}
    for row in _rows_by_id(conn, _GET_RECORDS, hub_ids):
        rec = _to_record(row)
        found[rec.hub_id] = rec
    return found


_GET_STATES = select(
    records.c.hub_id, records.c.source_version, records.c.content_hash, records.c.partition,
    records.c.deleted_at,
).where(records.c.hub_id.in_(bindparam("ids", expanding=True)))


def stored_states(conn: Connection, hub_ids: Sequence[str]) -> dict[str, StoredState]:
    return {
        row.hub_id: StoredState(row.source_version, row.content_hash, row.partition, row.deleted_at is not None)
        for row in _rows_by_id(conn, _GET_STATES, hub_ids)
    }


def live_refs(conn: Connection, connector: str, stream: str, partition: str,
              fetched_until: datetime | None = None) -> dict[str, str | None]:
    stmt = select(records.c.external_id, records.c.source_version).where(
        records.c.connector == connector,
        records.c.stream == stream,
        records.c.partition == partition,
        records.c.deleted_at.is_(None),
    )
    if fetched_until is not None:
        stmt = stmt.where(records.c.fetched_at <= fetched_until)
    return {row.external_id: row.source_version for row in conn.execute(stmt)}


def count_records(conn: Connection, connector: str | None, stream: str | None, include_deleted: bool) -> int:
    stmt = select(func.count()).select_from(records)
    if connector is not None:
        stmt = stmt.where(records.c.connector == connector)
    if stream is not None:
        stmt = stmt.where(records.c.stream == stream)
    if not include_deleted:
        stmt = stmt.where(records.c.deleted_at.is_(None))
    return int(conn.execute(stmt).scalar_one())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_records(conn: Connection, query: RecordQuery) -> list[Record]:
    """Newest change first (updated at source, else fetched)."""
    stmt = select(records)
    if query.kind is not None:
        stmt = stmt.where(records.c.kind == query.kind.value)
    if query.connector is not None:
        stmt = stmt.where(records.c.connector == query.connector)
    if query.system is not None:
        stmt = stmt.where(records.c.system == query.system)
    if query.updated_since is not None:
        stmt = stmt.where(records.c.updated_at >= query.updated_since)
    if not query.include_deleted:
        stmt = stmt.where(records.c.deleted_at.is_(None))
    if query.text:
        pattern = f"%{_like_escape(query.text.lower())}%"
        stmt = stmt.where(records.c.search_text.like(pattern, escape="\\"))
    stmt = (
        stmt.order_by(records.c.updated_at.desc(), records.c.hub_id)
        .limit(max(0, query.limit))
        .offset(max(0, query.offset))
    )
    return [_to_record(row) for row in conn.execute(stmt)]


def iter_records(
    engine: Engine, connector: str, stream: str | None, include_deleted: bool
) -> Iterator[Record]:
    """Keyset pages by hub id, each read on a short-lived connection.

    Unlike one long server-side cursor, no connection or snapshot stays open while the
    caller works on a page (the caller may well write to the store meanwhile), and an
    abandoned iterator leaks nothing.
    """
    last: str | None = None
    while True:
        stmt = select(records).where(records.c.connector == connector)
        if stream is not None:
            stmt = stmt.where(records.c.stream == stream)
        if not include_deleted:
            stmt = stmt.where(records.c.deleted_at.is_(None))
        if last is not None:
            stmt = stmt.where(records.c.hub_id > last)
        stmt = stmt.order_by(records.c.hub_id).limit(ITER_BATCH)
        with engine.connect() as conn:
            page = [_to_record(row) for row in conn.execute(stmt)]
        yield from page
        if len(page) < ITER_BATCH:
            return
        last = page[-1].hub_id


def links_for(conn: Connection, hub_id: str) -> list[LinkRow]:
    stmt = (
        select(links)
        .where(or_(links.c.from_record == hub_id, links.c.to_record == hub_id))
        .order_by(links.c.created_at, links.c.from_record, links.c.to_record, links.c.kind)
    )
    return [
        LinkRow(
            from_record=r.from_record,
            to_record=r.to_record,
            kind=r.kind,
            derived_by=r.derived_by,
            created_at=r.created_at,
        )
        for r in conn.execute(stmt)
    ]


def record_lineage(conn: Connection, hub_id: str) -> str | None:
    stmt = select(records.c.last_writer).where(records.c.hub_id == hub_id)
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else str(value)
