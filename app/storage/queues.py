"""The durable queues: the webhook inbox and the write outbox.

Both share the retry bookkeeping (attempts, status, next attempt, last error) and the
claim: a claimer marks rows with its name and a claim deadline, so two claimers never
hold the same row, and a claimer that dies releases its rows when the deadline passes.
On PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED``; on SQLite the
write gate and ``BEGIN IMMEDIATE`` make the pick-and-mark one exclusive step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Table, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.storage.protocol import InboxItem, OutboxItem
from app.storage.sql import insert_ignore
from app.storage.tables import inbox, outbox

__all__ = [
    "claim",
    "claim_outbox_for_pair",
    "enqueue_outbox",
    "inbox_put",
    "inbox_put_many",
    "list_items",
    "mark_done",
    "mark_failed",
    "retry_dead",
    "revive_outbox",
    "supersede_outbox",
    "to_inbox_item",
    "to_outbox_item",
]

PENDING = "pending"
DONE = "done"
DEAD = "dead"
SUPERSEDED = "superseded"
"""An outbox write closed without being applied (a stale precondition, a refused record): the next
plan decides afresh. Its idempotency key is released so that plan may queue the same write again."""


def inbox_put(
    conn: Connection, source: str, delivery_id: str, headers: dict[str, str], body: bytes, now: datetime
) -> bool:
    return insert_ignore(
        conn,
        inbox,
        {
            "source": source,
            "delivery_id": delivery_id,
            "received_at": now,
            "headers": dict(headers),
            "body": bytes(body),
            "attempts": 0,
            "status": PENDING,
        },
        ["source", "delivery_id"],
    )


_ROWS_PER_INSERT = 100
"""Rows per multi-row INSERT: 7 bound values each stays under SQLite's 999-variable floor."""


def inbox_put_many(
    conn: Connection, items: Sequence[tuple[str, str, dict[str, str], bytes]], now: datetime
) -> list[bool]:
    """Every delivery in the caller's one transaction; True for each row written, in order.

    Multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING source, delivery_id`` (both
    backends): the keys returned are the rows written, any other is a duplicate of a stored
    delivery. A key repeated within ``items`` is sent once; its later copies answer False.
    """
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for source, delivery_id, headers, body in items:
        first.setdefault(
            (source, delivery_id),
            {
                "source": source,
                "delivery_id": delivery_id,
                "received_at": now,
                "headers": dict(headers),
                "body": bytes(body),
                "attempts": 0,
                "status": PENDING,
            },
        )
    rows = list(first.values())
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    written: set[tuple[str, str]] = set()
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        stmt = (
            dialect_insert(inbox)
            .values(rows[start : start + _ROWS_PER_INSERT])
            .on_conflict_do_nothing(index_elements=["source", "delivery_id"])
            .returning(inbox.c.source, inbox.c.delivery_id)
        )
        written.update((r[0], r[1]) for r in conn.execute(stmt))
    flags = []
    for source, delivery_id, _, _ in items:
        key = (source, delivery_id)
        flags.append(key in written)
        written.discard(key)  # a later copy in the same batch is a duplicate
    return flags


def enqueue_outbox(
    conn: Connection,
    pair_id: str,
    connector: str,
    stream: str,
    operation: str,
    idempotency_key: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    return insert_ignore(
        conn,
        outbox,
        {
            "pair_id": pair_id,
            "connector": connector,
            "stream": stream,
            "operation": operation,
            "idempotency_key": idempotency_key,
            "payload": payload,
            "created_at": now,
            "attempts": 0,
            "status": PENDING,
        },
        ["idempotency_key"],
    )


def claim(
    conn: Connection, table: Table, owner: str, limit: int, now: datetime, claim_ttl_s: float
) -> list[Row[Any]]:
    """Claim up to ``limit`` pending rows due now, oldest first; returns the claimed rows."""
    c = table.c
    pick = (
        select(c.id)
        .where(
            c.status == PENDING,
            or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
            or_(c.claimed_until.is_(None), c.claimed_until <= now),
        )
        .order_by(c.id)
        .limit(max(0, limit))
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL only
    )
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    conn.execute(
        update(table)
        .where(c.id.in_(ids))
        .values(claimed_by=owner, claimed_until=now + timedelta(seconds=claim_ttl_s))
    )
    return list(conn.execute(select(table).where(c.id.in_(ids)).order_by(c.id)))


def extend_claims(
    conn: Connection, table: Table, owner: str, ids: list[int], now: datetime, claim_ttl_s: float
) -> int:
    """Push the claim of ``owner``'s pending rows ``ids`` to ``now + claim_ttl_s``; returns how many."""
    if not ids:
        return 0
    c = table.c
    result = conn.execute(
        update(table)
        .where(c.id.in_(ids), c.claimed_by == owner, c.status == PENDING)
        .values(claimed_until=now + timedelta(seconds=claim_ttl_s))
    )
    return int(result.rowcount or 0)


def claim_outbox_for_pair(
    conn: Connection, pair_id: str, owner: str, now: datetime, claim_ttl_s: float
) -> list[Row[Any]]:
    """Claim every pending outbox row of ``pair_id``, oldest first, whoever claimed it before.

    Only the holder of the pair's lease calls this, so an earlier claim belongs to a runner
    that died or lost the lease: its rows are exactly the leftovers to finish. Due times are
    not waited for: the pair's own run schedule paces the retries.
    """
    c = outbox.c
    pick = (
        select(c.id)
        .where(c.pair_id == pair_id, c.status == PENDING)
        .order_by(c.id)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL only
    )
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    conn.execute(
        update(outbox)
        .where(c.id.in_(ids))
        .values(claimed_by=owner, claimed_until=now + timedelta(seconds=claim_ttl_s))
    )
    return list(conn.execute(select(outbox).where(c.id.in_(ids)).order_by(c.id)))


def supersede_outbox(conn: Connection, item_id: int, reason: str) -> None:
    """Close an outbox row unapplied and release its idempotency key (suffixed with the row id)."""
    c = outbox.c
    conn.execute(
        update(outbox)
        .where(c.id == item_id)
        .values(
            status=SUPERSEDED,
            last_error=reason,
            idempotency_key=c.idempotency_key + "#" + str(item_id),
            claimed_by=None,
            claimed_until=None,
            next_attempt_at=None,
        )
    )


def revive_outbox(conn: Connection, idempotency_key: str) -> bool:
    """A dead outbox row asked for again by a new plan goes back to pending (attempts kept)."""
    c = outbox.c
    result = conn.execute(
        update(outbox)
        .where(c.idempotency_key == idempotency_key, c.status == DEAD)
        .values(status=PENDING, next_attempt_at=None, claimed_by=None, claimed_until=None)
    )
    return result.rowcount == 1


def mark_done(conn: Connection, table: Table, item_id: int) -> None:
    conn.execute(
        update(table)
        .where(table.c.id == item_id)
        .values(status=DONE, claimed_by=None, claimed_until=None, next_attempt_at=None)
    )


def mark_failed(conn: Connection, table: Table, item_id: int, error: str, retry_at: datetime | None) -> None:
    """Count the attempt; retry at ``retry_at``, or make it a dead letter when there is none."""
    conn.execute(
        update(table)
        .where(table.c.id == item_id)
        .values(
            attempts=table.c.attempts + 1,
            last_error=error,
            status=PENDING if retry_at is not None else DEAD,
            next_attempt_at=retry_at,
            claimed_by=None,
            claimed_until=None,
        )
    )


def retry_dead(conn: Connection, table: Table, item_id: int) -> bool:
    """A dead letter goes back to pending, due now, with a fresh attempt budget."""
    result = conn.execute(
        update(table)
        .where(table.c.id == item_id, table.c.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=None, claimed_by=None, claimed_until=None)
    )
    return result.rowcount == 1


def list_items(conn: Connection, table: Table, status: str | None, limit: int) -> list[Row[Any]]:
    """Newest first."""
    stmt = select(table).order_by(table.c.id.desc()).limit(max(0, limit))
    if status is not None:
        stmt = stmt.where(table.c.status == status)
    return list(conn.execute(stmt))


def to_inbox_item(row: Row[Any]) -> InboxItem:
    m = row._mapping
    return InboxItem(
        id=int(m["id"]),
        source=m["source"],
        delivery_id=m["delivery_id"],
        received_at=m["received_at"],
        headers=dict(m["headers"]),
        body=bytes(m["body"]),
        attempts=int(m["attempts"]),
        status=m["status"],
        last_error=m["last_error"],
        next_attempt_at=m["next_attempt_at"],
    )


def to_outbox_item(row: Row[Any]) -> OutboxItem:
    m = row._mapping
    return OutboxItem(
        id=int(m["id"]),
        pair_id=m["pair_id"],
        connector=m["connector"],
        stream=m["stream"],
        operation=m["operation"],
        idempotency_key=m["idempotency_key"],
        payload=dict(m["payload"]),
        created_at=m["created_at"],
        attempts=int(m["attempts"]),
        status=m["status"],
        last_error=m["last_error"],
        next_attempt_at=m["next_attempt_at"],
    )
