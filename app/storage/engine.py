"""Engines for the two backends, and the gate that serialises SQLite writers.

SQLite: WAL (readers never wait for the writer), a busy timeout for other
processes, foreign keys on, and write transactions opened with ``BEGIN IMMEDIATE``
so two writers never deadlock upgrading a read lock. Inside one process every write
also goes through a :class:`WriteGate`, because SQLite has a single writer and
waiting on a Python lock is cheaper and fairer than spinning on ``SQLITE_BUSY``.

PostgreSQL: psycopg 3 (``postgresql+psycopg://``); row locks do the serialising.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL

from app.errors import ConfigError
from app.storage.checkpoint import BACKSTOP_PAGES

__all__ = ["WriteGate", "gate_for", "is_sqlite", "make_engine", "normalise_url"]

SQLITE_BUSY_TIMEOUT_MS = 15_000
IMMEDIATE = "passerelle_begin_immediate"


def json_text(value: Any) -> str:
    """``value`` as JSON text for a JSON column, non-ASCII kept readable (and searchable with psql).

    orjson, which a full sync pays for every raw payload (~5 against ~22 us for a Jira issue);
    the standard library for what orjson refuses (integers over 64 bits, keys that are not
    strings, ...), so nothing that stored before fails now.
    """
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def normalise_url(url: str | URL) -> URL:
    """Parse ``url``; a bare ``postgresql://`` means psycopg 3, the only PostgreSQL driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def make_engine(url: str | URL) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True, json_serializer=json_text)


def _sqlite_engine(url: URL) -> Engine:
    if _is_memory(url):
        # Each pooled connection would see its own empty database, and sharing one connection
        # between threads mixes their transactions: the store needs a file.
        raise ConfigError("in-memory SQLite is not supported: use a file, e.g. sqlite:///data/passerelle.db")
    assert url.database is not None
    Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, json_serializer=json_text)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is
        # deferred and skipped for some statements).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            # The store's WalCheckpointer checkpoints; a commit only does it as a backstop.
            cur.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class WriteGate:
    """One writer at a time inside this process (SQLite); a no-op for PostgreSQL.

    Re-entering from the thread that holds it raises instead of deadlocking: a write
    issued while the same thread has a transaction open can never proceed on SQLite.
    """

    def __init__(self, exclusive: bool) -> None:
        self.exclusive = exclusive
        self._lock = threading.Lock()
        self._owner: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self.exclusive:
            yield
            return
        me = threading.get_ident()
        if self._owner == me:
            raise RuntimeError(
                "nested write on SQLite: this thread already has a store transaction open; "
                "do the write through that transaction (or after it commits)"
            )
        with self._lock:
            self._owner = me
            try:
                yield
            finally:
                self._owner = None


_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()


def gate_for(engine: Engine) -> WriteGate:
    """The gate for ``engine``'s database: shared by every store on the same SQLite file."""
    if not is_sqlite(engine):
        return WriteGate(exclusive=False)
    assert engine.url.database is not None
    key = str(Path(engine.url.database).expanduser().resolve())
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate(exclusive=True)
        return gate
