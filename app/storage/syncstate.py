"""What the sync engine remembers between runs: cursors per partition and two-way baselines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from app.storage.protocol import BaselineRow, CursorKey, CursorState
from app.storage.sql import prepared_upsert, upsert
from app.storage.tables import baselines, cursors

__all__ = ["baseline", "delete_baseline", "get_cursor", "list_cursors", "put_baseline", "set_cursor"]


def _to_cursor(row: Row[Any]) -> CursorState:
    return CursorState(
        key=CursorKey(row.connector, row.stream, row.partition),
        value=row.value,
        updated_at=row.updated_at,
        last_full_sync_at=row.last_full_sync_at,
    )


def set_cursor(
    conn: Connection, key: CursorKey, value: str | None, full_sync_done: bool, now: datetime
) -> None:
    values = {
        "connector": key.connector,
        "stream": key.stream,
        "partition": key.partition,
        "value": value,
        "updated_at": now,
        "last_full_sync_at": now if full_sync_done else None,
    }
    # An incremental page keeps the time of the last full sync; only a full sync moves it.
    update = ("value", "updated_at", "last_full_sync_at") if full_sync_done else ("value", "updated_at")
    stmt = prepared_upsert(conn.dialect.name, cursors, tuple(values), ("connector", "stream", "partition"), update)
    conn.execute(stmt, values)


def get_cursor(conn: Connection, key: CursorKey) -> CursorState | None:
    row = conn.execute(
        select(cursors).where(
            cursors.c.connector == key.connector,
            cursors.c.stream == key.stream,
            cursors.c.partition == key.partition,
        )
    ).first()
    return None if row is None else _to_cursor(row)


def list_cursors(conn: Connection, connector: str | None) -> list[CursorState]:
    stmt = select(cursors).order_by(cursors.c.connector, cursors.c.stream, cursors.c.partition)
    if connector is not None:
        stmt = stmt.where(cursors.c.connector == connector)
    return [_to_cursor(row) for row in conn.execute(stmt)]


def put_baseline(conn: Connection, row: BaselineRow) -> None:
    upsert(
        conn,
        baselines,
        {
            "pair_id": row.pair_id,
            "a_id": row.a_id,
            "b_id": row.b_id,
            "a_version": row.a_version,
            "a_hash": row.a_hash,
            "b_version": row.b_version,
            "b_hash": row.b_hash,
            "updated_at": row.updated_at,
        },
        ["pair_id", "a_id"],
    )


def delete_baseline(conn: Connection, pair_id: str, a_id: str) -> None:
    conn.execute(delete(baselines).where(baselines.c.pair_id == pair_id, baselines.c.a_id == a_id))


def baseline(conn: Connection, pair_id: str) -> Mapping[str, BaselineRow]:
    stmt = select(baselines).where(baselines.c.pair_id == pair_id).order_by(baselines.c.a_id)
    return {
        r.a_id: BaselineRow(
            pair_id=r.pair_id,
            a_id=r.a_id,
            b_id=r.b_id,
            a_version=r.a_version,
            a_hash=r.a_hash,
            b_version=r.b_version,
            b_hash=r.b_hash,
            updated_at=r.updated_at,
        )
        for r in conn.execute(stmt)
    }
