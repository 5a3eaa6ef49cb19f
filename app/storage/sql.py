"""Dialect-specific statements the store needs on both backends."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from app.storage.types import UTCDateTime

__all__ = ["driver_bind_processor", "insert_ignore", "upsert", "upsert_many", "upsert_stmt"]


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


@functools.cache
def prepared_upsert(
    dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...], update: tuple[str, ...]
) -> postgresql.Insert | sqlite.Insert:
    """:func:`upsert_stmt` built once, every column a bound parameter of its own name: for an upsert
    run once per page (a cursor), where building the statement cost more than running it."""
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = insert.values({c: bindparam(c) for c in columns})
    return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    conn.execute(upsert_stmt(conn, table, values, keys, update))


_DriverUpsert = tuple[str, tuple[tuple[str, Callable[[Any], Any] | None, str | None], ...]]
"""An upsert's SQL text for the driver, and per column: name, bind processor, and for a repeated
column the name of its memo (its type's repr: columns of one type share what they processed)."""

# Built once per (dialect, table, columns, keys, serialised, repeated columns).
_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]],
               _DriverUpsert] = {}


def _driver_upsert(
    conn: Connection, table: Table, columns: tuple[str, ...], keys: tuple[str, ...],
    serialised: tuple[str, ...], repeated: tuple[str, ...],
) -> _DriverUpsert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET c = excluded.c`` in the driver's own paramstyle.

    JSON columns named ``serialised`` take their text as is (PostgreSQL: with the ``::json`` cast
    SQLAlchemy binds JSON with); every other column goes through its type's bind processor, so
    what is stored is what SQLAlchemy's binding stores (``tests/unit/storage/test_record_rows.py``).
    """
    dialect = conn.dialect
    memo = (dialect.name, table.fullname, columns, keys, serialised, repeated)
    found = _UPSERTS.get(memo)
    if found is not None:
        return found
    quote = dialect.identifier_preparer.quote
    pg = dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    holders = [mark + ("::json" if pg and c in serialised else "") for c in columns]
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in keys)
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(c) for c in columns)}) VALUES ({', '.join(holders)}) "
        f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO "
        + (f"UPDATE SET {updates}" if updates else "NOTHING")
    )
    binds = tuple(
        (c, None if c in serialised else driver_bind_processor(table.c[c].type, dialect),
         repr(table.c[c].type) if c in repeated else None)
        for c in columns
    )
    found = _UPSERTS[memo] = (sql, binds)
    return found


_SQLITE_DATETIME = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
"""SQLAlchemy's default text for a SQLite DATETIME: what ``datetime.isoformat(" ", "microseconds")``
writes for a naive datetime."""


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """:class:`UTCDateTime`'s binding on SQLite in C calls (about 1.4 against 2.3 us a value)."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store only accepts timezone-aware datetimes")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def driver_bind_processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of ``column_type`` before handing it to the driver (None: nothing)."""
    impl = column_type.dialect_impl(dialect)
    if (dialect.name == "sqlite" and isinstance(impl, UTCDateTime)
            and getattr(impl.impl_instance, "_storage_format", None) == _SQLITE_DATETIME):
        return _sqlite_utc_text
    return impl.bind_processor(dialect)


def _driver_rows(binds: _DriverUpsert, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row as the driver takes it. A ``repeated`` column's values are processed once per
    distinct value, the memo shared by every repeated column of the same processor (a page's rows
    share their fetch time, and ``updated_at`` is ``updated_at_source``)."""
    memos: dict[str, dict[Any, Any]] = {}
    plan = [(name, process, None if shared is None else memos.setdefault(shared, {}))
             for name, process, shared in binds[1]]
    out: list[tuple[Any, ...]] = []
    for row in rows:
        values: list[Any] = []
        for name, process, memo in plan:
            value = row[name]
            if process is not None:
                if memo is None:
                    value = process(value)
                else:
                    try:
                        value = memo[value]
                    except KeyError:
                        processed = memo[value] = process(value)
                        value = processed
            values.append(value)
        out.append(tuple(values))
    return out


def _sqlite_executemany(conn: Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
    """sqlite3 keeps the one statement prepared and steps it for every row in C."""
    driver = cast("sqlite3.Connection", conn.connection.dbapi_connection)
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, params)
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(sql, None, exc) from exc
    finally:
        cursor.close()


def _pg_executemany(conn: Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
    """psycopg parses and prepares the one short statement once and pipelines every row."""
    import psycopg

    driver = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
    try:
        with driver.cursor() as cursor:
            cursor.executemany(sql, params)
    except psycopg.IntegrityError as exc:
        raise IntegrityError(sql, None, exc) from exc


def upsert_many(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    serialised: Collection[str] = (),
    repeated: Collection[str] = (),
) -> None:
    """:func:`upsert` of many rows: one single-row statement, prepared once, run for every row.

    Every row must name the same columns (the first row's); on conflict each non-key column
    is replaced. A key named twice ends with its last row, as with one upsert after the other.
    ``serialised`` names JSON columns whose values the rows already hold as JSON text (the
    caller chose the serialiser); ``repeated`` names columns whose values repeat across rows
    (hashable values: timestamps), bound through the column's type once per distinct value.

    Through the driver, in the caller's transaction (the connection SQLAlchemy holds): through
    SQLAlchemy, parameter handling of each row cost more than the database's own work on it.
    A clash on another unique constraint raises SQLAlchemy's ``IntegrityError``, as before.
    """
    latest = {tuple(r[k] for k in keys): r for r in rows}
    if not latest:
        return
    plan = _driver_upsert(conn, table, tuple(rows[0]), tuple(keys), tuple(sorted(serialised)),
                          tuple(sorted(repeated)))
    params = _driver_rows(plan, list(latest.values()))
    if conn.dialect.name == "postgresql":
        _pg_executemany(conn, plan[0], params)
    else:
        _sqlite_executemany(conn, plan[0], params)


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], keys: Sequence[str]) -> bool:
    """Insert unless a row with the same ``keys`` exists; True when a row was written."""
    stmt = _insert(conn, table).values(dict(values)).on_conflict_do_nothing(index_elements=list(keys))
    # RETURNING, not rowcount: with implicit RETURNING of the primary key, psycopg reports -1.
    return conn.execute(stmt.returning(table.c[keys[0]])).first() is not None
