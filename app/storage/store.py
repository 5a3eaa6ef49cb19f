"""``SqlStore``: the :class:`~app.storage.protocol.Store` on SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.models import Record, RecordKind
from app.storage import (
    freshness,
    held,
    leases,
    lookup,
    people,
    queues,
    records,
    retention,
    runs,
    sightings,
    subscriptions,
    syncstate,
)
from app.storage.checkpoint import WalCheckpointer
from app.storage.engine import IMMEDIATE, gate_for, is_sqlite
from app.storage.protocol import (
    BaselineRow,
    ChangeStats,
    CursorKey,
    CursorState,
    HeldDeletes,
    InboxItem,
    LinkRow,
    OutboxItem,
    RecordQuery,
    RunRecord,
    RunStatus,
    Store,
    StoredState,
    SubscriptionRow,
    Transaction,
)
from app.storage.tables import inbox, outbox
from app.storage.transaction import Clock, SqlTransaction
from app.storage.types import utcnow

__all__ = ["DEFAULT_CLAIM_TTL_S", "Clock", "SqlStore", "SqlTransaction"]

DEFAULT_CLAIM_TTL_S = 300.0
"""How long a claimed inbox/outbox row stays invisible to other claimers if its claimer never reports back."""

class SqlStore:
    """The hub's store. Build it with :func:`app.storage.create_store`; thread-safe.

    ``now`` is the clock for every timestamp the store sets itself (cursor times, lease
    expiry, queue due times, claim deadlines), so tests can move time.
    """

    def __init__(
        self, engine: Engine, *, now: Clock = utcnow, claim_ttl_s: float = DEFAULT_CLAIM_TTL_S
    ) -> None:
        self._engine = engine
        self._now = now
        self._claim_ttl_s = claim_ttl_s
        self._gate = gate_for(engine)
        self._checkpointer = (WalCheckpointer(str(Path(engine.url.database).expanduser().resolve()))
                              if is_sqlite(engine) and engine.url.database else None)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    # --- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One write transaction: committed on a clean exit, rolled back on an exception."""
        if self._checkpointer is not None:
            self._checkpointer.ensure_started()
        with self._gate.hold(), self._engine.connect() as conn:
            conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    # --- lifecycle ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._writing() as conn:
            yield SqlTransaction(conn, self._now)

    def ping(self) -> bool:
        try:
            with self._reading() as conn:
                return bool(conn.execute(text("SELECT 1")).scalar_one() == 1)
        except SQLAlchemyError:
            return False

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._engine.dispose()

    # --- records -----------------------------------------------------------------------------

    def get_record(self, hub_id: str) -> Record | None:
        return self.get_records([hub_id]).get(hub_id)

    def get_records(self, hub_ids: Sequence[str]) -> dict[str, Record]:
        with self._reading() as conn:
            return records.get_records(conn, hub_ids)

    def stored_states(self, hub_ids: Sequence[str]) -> dict[str, StoredState]:
        with self._reading() as conn:
            return records.stored_states(conn, hub_ids)

    def live_refs(self, connector: str, stream: str, partition: str,
                  fetched_until: datetime | None = None) -> dict[str, str | None]:
        with self._reading() as conn:
            return records.live_refs(conn, connector, stream, partition, fetched_until)

    def count_records(
        self, connector: str | None = None, stream: str | None = None, include_deleted: bool = False
    ) -> int:
        with self._reading() as conn:
            return records.count_records(conn, connector, stream, include_deleted)

    def search_records(self, query: RecordQuery) -> list[Record]:
        with self._reading() as conn:
            return records.search_records(conn, query)

    def iter_records(
        self, connector: str, stream: str | None = None, include_deleted: bool = True
    ) -> Iterator[Record]:
        return records.iter_records(self._engine, connector, stream, include_deleted)

    def links_for(self, hub_id: str) -> list[LinkRow]:
        with self._reading() as conn:
            return records.links_for(conn, hub_id)

    def record_lineage(self, hub_id: str) -> str | None:
        with self._reading() as conn:
            return records.record_lineage(conn, hub_id)

    def find_by_natural_key(self, kind: RecordKind, natural_key: str) -> list[Record]:
        with self._reading() as conn:
            ids = [m.hub_id for m in lookup.find_live(conn, kind, [natural_key], deriving=False)]
            found = records.get_records(conn, ids)
        return [found[i] for i in ids if i in found]

    # --- cursors -----------------------------------------------------------------------------

    def get_cursor(self, key: CursorKey) -> CursorState | None:
        with self._reading() as conn:
            return syncstate.get_cursor(conn, key)

    def list_cursors(self, connector: str | None = None) -> list[CursorState]:
        with self._reading() as conn:
            return syncstate.list_cursors(conn, connector)

    # --- runs --------------------------------------------------------------------------------

    def save_run(self, run: RunRecord) -> None:
        with self._writing() as conn:
            runs.save_run(conn, run)

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._reading() as conn:
            return runs.get_run(conn, run_id)

    def list_runs(
        self, pair_id: str | None = None, status: RunStatus | None = None, limit: int = 50
    ) -> list[RunRecord]:
        with self._reading() as conn:
            return runs.list_runs(conn, pair_id, status, limit)

    # --- leases ------------------------------------------------------------------------------

    def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        with self._writing() as conn:
            return leases.acquire_lease(conn, name, owner, ttl_s, self._now())

    def release_lease(self, name: str, owner: str) -> None:
        with self._writing() as conn:
            leases.release_lease(conn, name, owner)

    # --- two-way baseline --------------------------------------------------------------------

    def baseline(self, pair_id: str) -> Mapping[str, BaselineRow]:
        with self._reading() as conn:
            return syncstate.baseline(conn, pair_id)

    # --- webhook inbox -----------------------------------------------------------------------

    def inbox_put(self, source: str, delivery_id: str, headers: dict[str, str], body: bytes) -> bool:
        with self._writing() as conn:
            return queues.inbox_put(conn, source, delivery_id, headers, body, self._now())

    def inbox_put_many(self, items: Sequence[tuple[str, str, dict[str, str], bytes]]) -> list[bool]:
        if not items:
            return []
        with self._writing() as conn:
            return queues.inbox_put_many(conn, items, self._now())

    def inbox_claim(self, owner: str, limit: int = 20, claim_ttl_s: float | None = None) -> list[InboxItem]:
        ttl = self._claim_ttl_s if claim_ttl_s is None else claim_ttl_s
        with self._writing() as conn:
            rows = queues.claim(conn, inbox, owner, limit, self._now(), ttl)
        return [queues.to_inbox_item(r) for r in rows]

    def inbox_extend_claims(self, owner: str, item_ids: Sequence[int], claim_ttl_s: float) -> int:
        with self._writing() as conn:
            return queues.extend_claims(conn, inbox, owner, list(item_ids), self._now(), claim_ttl_s)

    def inbox_done(self, item_id: int) -> None:
        with self._writing() as conn:
            queues.mark_done(conn, inbox, item_id)

    def inbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        with self._writing() as conn:
            queues.mark_failed(conn, inbox, item_id, error, retry_at)

    def inbox_list(self, status: str | None = None, limit: int = 50) -> list[InboxItem]:
        with self._reading() as conn:
            return [queues.to_inbox_item(r) for r in queues.list_items(conn, inbox, status, limit)]

    def inbox_retry(self, item_id: int) -> bool:
        with self._writing() as conn:
            return queues.retry_dead(conn, inbox, item_id)

    # --- outbox ------------------------------------------------------------------------------

    def outbox_claim(self, owner: str, limit: int = 20) -> list[OutboxItem]:
        with self._writing() as conn:
            rows = queues.claim(conn, outbox, owner, limit, self._now(), self._claim_ttl_s)
        return [queues.to_outbox_item(r) for r in rows]

    def outbox_claim_pair(self, pair_id: str, owner: str) -> list[OutboxItem]:
        with self._writing() as conn:
            rows = queues.claim_outbox_for_pair(conn, pair_id, owner, self._now(), self._claim_ttl_s)
        return [queues.to_outbox_item(r) for r in rows]

    def outbox_done(self, item_id: int) -> None:
        with self._writing() as conn:
            queues.mark_done(conn, outbox, item_id)

    def outbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        with self._writing() as conn:
            queues.mark_failed(conn, outbox, item_id, error, retry_at)

    def outbox_list(self, status: str | None = None, limit: int = 50) -> list[OutboxItem]:
        with self._reading() as conn:
            return [queues.to_outbox_item(r) for r in queues.list_items(conn, outbox, status, limit)]

    # --- deletes held back by the mass-delete guard -------------------------------------------

    def hold_deletes(self, key: CursorKey, missing: int, reason: str) -> HeldDeletes:
        with self._writing() as conn:
            return held.hold(conn, key, missing, reason, self._now())

    def approve_held_deletes(self, key: CursorKey, up_to: int) -> HeldDeletes | None:
        with self._writing() as conn:
            return held.approve(conn, key, up_to, self._now())

    def release_held_deletes(self, key: CursorKey) -> None:
        with self._writing() as conn:
            held.release(conn, key)

    def held_deletes(self, key: CursorKey) -> HeldDeletes | None:
        with self._reading() as conn:
            return held.get(conn, key)

    def list_held_deletes(self, connector: str | None = None) -> list[HeldDeletes]:
        with self._reading() as conn:
            return held.list_held(conn, connector)

    # --- retention ---------------------------------------------------------------------------

    def prune_finished(
        self,
        older_than: timedelta,
        *,
        batch_size: int = retention.DEFAULT_BATCH_SIZE,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> retention.Pruned:
        return retention.prune_finished(
            self._writing, self._now() - older_than, batch_size=batch_size, should_stop=should_stop
        )

    # --- people ------------------------------------------------------------------------------

    def upsert_account(
        self, system: str, account_id: str, email: str | None, email_verified: bool, display_name: str | None
    ) -> str:
        with self._writing() as conn:
            return people.upsert_account(
                conn, system, account_id, email, email_verified, display_name, self._now()
            )

    def set_identity_override(self, system: str, account_id: str, person_id: str) -> None:
        with self._writing() as conn:
            people.set_identity_override(conn, system, account_id, person_id, self._now())

    def person_for_account(self, system: str, account_id: str) -> str | None:
        with self._reading() as conn:
            return sightings.person_for_account(conn, system, account_id)

    def list_people(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        with self._reading() as conn:
            return people.list_people(conn, limit, offset)

    # --- webhook subscriptions ---------------------------------------------------------------

    def put_subscription(self, row: SubscriptionRow) -> None:
        with self._writing() as conn:
            subscriptions.put_subscription(conn, row)

    def get_subscription(self, vendor: str, external_id: str) -> SubscriptionRow | None:
        with self._reading() as conn:
            return subscriptions.get_subscription(conn, vendor, external_id)

    def list_subscriptions(
        self, connector: str | None = None, status: str | None = None
    ) -> list[SubscriptionRow]:
        with self._reading() as conn:
            return subscriptions.list_subscriptions(conn, connector, status)

    def delete_subscription(self, vendor: str, external_id: str) -> bool:
        with self._writing() as conn:
            return subscriptions.delete_subscription(conn, vendor, external_id)

    # --- freshness ---------------------------------------------------------------------------

    def change_stats(self, connector: str, stream: str | None, since: datetime) -> ChangeStats:
        with self._reading() as conn:
            return freshness.change_stats(conn, connector, stream, since)


if TYPE_CHECKING:
    # mypy proves the classes satisfy the protocols the rest of the hub codes against.
    def _is_store(s: SqlStore) -> Store:
        return s

    def _is_transaction(t: SqlTransaction) -> Transaction:
        return t
