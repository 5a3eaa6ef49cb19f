"""Dialect-specific statements the store needs on both backends."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine

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


class _JSONText(TypeDecorator[str]):
    """A JSON column's value handed over already serialised: bound as is.

    PostgreSQL still receives the ``::JSON`` cast a JSON parameter gets; SQLite stores the text.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


class _Processed(TypeDecorator[Any]):
    """A value :func:`upsert_many` already put through its column type's bind processing: bound as is.

    ``impl`` is the column type's (the dialect's casts, if any, stay what they were).
    """

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = NullType
    cache_ok = True

    def __init__(self, column_type: TypeEngine[Any]) -> None:
        super().__init__()
        self.column_type = column_type  # part of the statement cache key
        self.impl = column_type

    def bind_processor(self, dialect: Dialect) -> None:
        return None


# Statements built once per (dialect, table, columns, keys, serialised, repeated columns):
# building ``excluded`` and the bind parameters costs more than a page's executemany of them.
_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]],
               Executable] = {}


def _upsert_many_stmt(
    conn: Connection, table: Table, columns: tuple[str, ...], keys: tuple[str, ...],
    serialised: tuple[str, ...], repeated: tuple[str, ...],
) -> Executable:
    memo = (conn.dialect.name, table.fullname, columns, keys, serialised, repeated)
    stmt = _UPSERTS.get(memo)
    if stmt is None:
        insert = _insert(conn, table)
        bound: dict[str, Any] = {c: bindparam(c, type_=_JSONText()) for c in serialised}
        bound.update({c: bindparam(c, type_=_Processed(table.c[c].type)) for c in repeated})
        if bound:
            insert = insert.values(bound)
        set_: dict[str, Any] = {c: insert.excluded[c] for c in columns if c not in keys}
        stmt = _UPSERTS[memo] = insert.on_conflict_do_update(index_elements=list(keys), set_=set_)
    return stmt


def _process_repeated(
    conn: Connection, table: Table, rows: list[dict[str, Any]], repeated: tuple[str, ...]
) -> None:
    """Put the ``repeated`` columns of ``rows`` through their types' bind processing, once per
    distinct value (a page's rows share their fetch time, and often created = updated)."""
    for column in repeated:
        process = table.c[column].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is None:
            continue
        done: dict[Any, Any] = {}
        for row in rows:
            value = row[column]
            try:
                row[column] = done[value]
            except KeyError:
                row[column] = done[value] = process(value)


def upsert_many(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    serialised: Collection[str] = (),
    repeated: Collection[str] = (),
) -> None:
    """:func:`upsert` of many rows with ONE statement, executed once over all of them.

    Every row must name the same columns (the first row's); on conflict each non-key column
    is replaced. Building the statement (``excluded`` in particular) costs more than running
    it, so it is built once and kept. A key named twice ends with its last row, as
    with one upsert after the other (and never as two rows of one multi-row ``VALUES``,
    which PostgreSQL refuses to update twice). ``serialised`` names JSON columns whose
    values the rows already hold as JSON text (the caller chose the serialiser);
    ``repeated`` names columns whose values repeat across rows (hashable values: timestamps),
    bound through the column's type once per distinct value instead of once per row.
    """
    latest = {tuple(r[k] for k in keys): r for r in rows}
    if not latest:
        return
    rep = tuple(sorted(repeated))
    params: list[Mapping[str, Any]] = list(latest.values())
    if rep:
        copies = [dict(r) for r in params]
        _process_repeated(conn, table, copies, rep)
        params = list(copies)
    stmt = _upsert_many_stmt(conn, table, tuple(rows[0]), tuple(keys), tuple(sorted(serialised)), rep)
    conn.execute(stmt, params)


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    """Insert unless a row with the same ``keys`` exists; True when a row was written."""
    stmt = _insert(conn, table).values(dict(values)).on_conflict_do_nothing(index_elements=list(keys))
    # RETURNING, not rowcount: with implicit RETURNING of the primary key, psycopg reports -1.
    return conn.execute(stmt.returning(table.c[keys[0]])).first() is not None
