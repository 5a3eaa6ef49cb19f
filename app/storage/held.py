"""Deletes held back by the mass-delete guard, per partition, and an admin's approval of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from app.storage.rows import CursorKey, HeldDeletes
from app.storage.sql import upsert
from app.storage.tables import held_deletes

__all__ = ["approve", "get", "hold", "list_held", "release"]

_KEY = ("connector", "stream", "partition")


def _where(key: CursorKey) -> tuple[Any, ...]:
    c = held_deletes.c
    return (c.connector == key.connector, c.stream == key.stream, c.partition == key.partition)


def _to_held(row: Row[Any]) -> HeldDeletes:
    return HeldDeletes(
        key=CursorKey(row.connector, row.stream, row.partition),
        missing=row.missing,
        reason=row.reason,
        held_at=row.held_at,
        approved_up_to=row.approved_up_to,
        approved_at=row.approved_at,
    )


def hold(conn: Connection, key: CursorKey, missing: int, reason: str, now: datetime) -> HeldDeletes:
    values = {"connector": key.connector, "stream": key.stream, "partition": key.partition,
              "missing": missing, "reason": reason, "held_at": now}
    # The approval columns are not in the update: an approval outlives a census that still holds.
    upsert(conn, held_deletes, values, _KEY, ("missing", "reason", "held_at"))
    held = get(conn, key)
    assert held is not None
    return held


def approve(conn: Connection, key: CursorKey, up_to: int, now: datetime) -> HeldDeletes | None:
    done = conn.execute(update(held_deletes).where(*_where(key)).values(approved_up_to=up_to, approved_at=now))
    return get(conn, key) if done.rowcount else None


def release(conn: Connection, key: CursorKey) -> None:
    conn.execute(delete(held_deletes).where(*_where(key)))


def get(conn: Connection, key: CursorKey) -> HeldDeletes | None:
    row = conn.execute(select(held_deletes).where(*_where(key))).first()
    return None if row is None else _to_held(row)


def list_held(conn: Connection, connector: str | None) -> list[HeldDeletes]:
    c = held_deletes.c
    stmt = select(held_deletes).order_by(c.connector, c.stream, c.partition)
    if connector is not None:
        stmt = stmt.where(c.connector == connector)
    return [_to_held(row) for row in conn.execute(stmt)]
