"""The hub's store: unified records, cursors, runs, queues, people and leases, on SQLite or PostgreSQL.

Build one with :func:`create_store`::

    store = create_store(settings.effective_database_url)            # production: schema must be current
    store = create_store("sqlite:///tmp/t.db", migrate=True)          # tests / `demo`: migrate first
"""

from __future__ import annotations

from app.storage.engine import make_engine
from app.storage.protocol import (
    BaselineRow,
    CursorKey,
    CursorState,
    InboxItem,
    LinkRow,
    OutboxItem,
    RecordQuery,
    RunRecord,
    RunStatus,
    Store,
    Transaction,
)
from app.storage.records import DuplicateSourceKey
from app.storage.schema import SchemaOutOfDate, check_schema, ensure_schema, upgrade, upgrade_engine
from app.storage.store import DEFAULT_CLAIM_TTL_S, Clock, SqlStore, SqlTransaction
from app.storage.types import utcnow

__all__ = [
    "BaselineRow",
    "CursorKey",
    "CursorState",
    "DuplicateSourceKey",
    "InboxItem",
    "LinkRow",
    "OutboxItem",
    "RecordQuery",
    "RunRecord",
    "RunStatus",
    "SchemaOutOfDate",
    "SqlStore",
    "SqlTransaction",
    "Store",
    "Transaction",
    "check_schema",
    "create_store",
    "upgrade",
]


def create_store(
    url: str, *, migrate: bool = False, now: Clock = utcnow, claim_ttl_s: float = DEFAULT_CLAIM_TTL_S
) -> SqlStore:
    """A store on the database at ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

    Raises :class:`SchemaOutOfDate` (a ``ConfigError``) when migrations are pending, unless
    ``migrate`` is set, which applies them first (tests, demo, single-process setups).
    """
    engine = make_engine(url)
    try:
        if migrate:
            upgrade_engine(engine)
        else:
            ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine, now=now, claim_ttl_s=claim_ttl_s)
