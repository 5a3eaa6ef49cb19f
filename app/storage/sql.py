"""Dialect-specific statements the store needs on both backends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["insert_ignore", "upsert", "upsert_many", "upsert_stmt"]


def _insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert_stmt(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    where: ColumnElement[bool] | None = None,
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` of ``update`` (default: every non-key column given).

    ``overrides`` replace the value set for some columns on conflict; ``where`` limits the update
    to rows it matches (the statement then writes nothing for the others).
    """
    stmt = _insert(conn, table).values(dict(values))
    cols = [c for c in values if c not in keys] if update is None else list(update)
    set_: dict[str, Any] = {c: stmt.excluded[c] for c in cols}
    set_.update(overrides or {})
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=set_, where=where)


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    conn.execute(upsert_stmt(conn, table, values, keys, update))


def upsert_many(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
) -> None:
    """:func:`upsert` of many rows with ONE statement, executed once over all of them.

    Every row must name the same columns (the first row's); on conflict each non-key column
    is replaced. Building the statement (``excluded`` in particular) costs more than running
    it, so a page of rows pays for it once. A key named twice ends with its last row, as
    with one upsert after the other (and never as two rows of one multi-row ``VALUES``,
    which PostgreSQL refuses to update twice).
    """
    latest = {tuple(r[k] for k in keys): dict(r) for r in rows}
    if not latest:
        return
    stmt = _insert(conn, table)
    set_: dict[str, Any] = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_), list(latest.values()))


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    """Insert unless a row with the same ``keys`` exists; True when a row was written."""
    stmt = _insert(conn, table).values(dict(values)).on_conflict_do_nothing(index_elements=list(keys))
    # RETURNING, not rowcount: with implicit RETURNING of the primary key, psycopg reports -1.
    return conn.execute(stmt.returning(table.c[keys[0]])).first() is not None
