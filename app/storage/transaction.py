"""``SqlTransaction``: the writes of one open database transaction (:meth:`SqlStore.transaction`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from app.models import Account, Record, RecordKind, Tombstone
from app.storage import lookup, queues, records, sightings, syncstate
from app.storage.protocol import BaselineRow, CursorKey, DerivedLink, KeyMatch, LinkDirection
from app.storage.tables import outbox

__all__ = ["Clock", "SqlTransaction"]

Clock = Callable[[], datetime]
"""Where the store reads the time (UTC, timezone-aware)."""


class SqlTransaction:
    """Writes on one open database transaction (see :meth:`SqlStore.transaction`)."""

    def __init__(self, conn: Connection, now: Clock) -> None:
        self._conn = conn
        self._now = now

    @property
    def connection(self) -> Connection:
        return self._conn

    def upsert_record(self, record: Record, run_id: str | None = None) -> None:
        records.upsert_record(self._conn, record, run_id)

    def upsert_records(self, batch: Sequence[Record], run_id: str | None = None) -> None:
        records.upsert_records(self._conn, batch, run_id)

    def tombstone_record(self, hub_id: str, tombstone: Tombstone, run_id: str | None = None) -> bool:
        return records.tombstone_record(self._conn, hub_id, tombstone, run_id)

    def set_cursor(self, key: CursorKey, value: str | None, *, full_sync_done: bool = False) -> None:
        syncstate.set_cursor(self._conn, key, value, full_sync_done, self._now())

    def put_baseline(self, row: BaselineRow) -> None:
        syncstate.put_baseline(self._conn, row)

    def delete_baseline(self, pair_id: str, a_id: str) -> None:
        syncstate.delete_baseline(self._conn, pair_id, a_id)

    def put_link(self, from_record: str, to_record: str, kind: str, derived_by: str) -> None:
        records.put_link(self._conn, from_record, to_record, kind, derived_by, self._now())

    def enqueue_outbox(
        self,
        pair_id: str,
        connector: str,
        stream: str,
        operation: str,
        idempotency_key: str,
        payload: dict[str, Any],
    ) -> bool:
        return queues.enqueue_outbox(
            self._conn, pair_id, connector, stream, operation, idempotency_key, payload, self._now()
        )

    def outbox_done(self, item_id: int) -> None:
        queues.mark_done(self._conn, outbox, item_id)

    def outbox_supersede(self, item_id: int, reason: str) -> None:
        queues.supersede_outbox(self._conn, item_id, reason)

    def outbox_revive(self, idempotency_key: str) -> bool:
        return queues.revive_outbox(self._conn, idempotency_key)

    def find_live(self, kind: RecordKind, natural_keys: Collection[str]) -> list[KeyMatch]:
        return lookup.find_live(self._conn, kind, natural_keys)

    def key_refs_to(self, rule: str, keys: Collection[str]) -> list[KeyMatch]:
        return lookup.key_refs_to(self._conn, rule, keys)

    def set_key_refs(self, rule: str, refs: Mapping[str, Collection[str]]) -> None:
        lookup.set_key_refs(self._conn, rule, refs)

    def replace_links(
        self, derived_by: str, wanted: Mapping[str, Collection[DerivedLink]], *,
        direction: LinkDirection = "from",
    ) -> None:
        lookup.replace_links(self._conn, derived_by, wanted, direction=direction, now=self._now())

    def note_accounts(self, accounts: Sequence[Account], *, authoritative: bool = False) -> int:
        return sightings.note_accounts(self._conn, accounts, authoritative=authoritative, now=self._now())
