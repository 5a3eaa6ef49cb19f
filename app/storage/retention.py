"""Retention of the durable queues: rows the hub has finished with are deleted after a while.

What goes
---------
inbox ``done``, by ``received_at``
    A delivery's ``(source, delivery_id)`` is what makes a vendor's retry of it a duplicate;
    once its row is pruned, a redelivery of that id is stored and processed again. With a
    retention longer than every vendor's retry window only a replay by hand can do that,
    and it costs one more targeted sync (a delivery is a hint, its processing idempotent).
    ``received_at`` is the right age: a vendor's retry window runs from its first send.
outbox ``done`` and ``superseded``, by ``created_at``
    A superseded row already released its idempotency key
    (:func:`app.storage.queues.supersede_outbox`).
    A done row's key only refuses the same write being queued again; what keeps an applied
    write from being planned again is the baseline row committed with its ``done``
    (:mod:`app.sync.push`): the next plan starts from the state the write produced, and a
    plan from a later state has another key. A crash before that commit leaves the row
    ``pending``, never pruned. Pruning a done row therefore never repeats a write.
    There is no finish time: a write that took longer than the retention to settle goes at
    the first sweep after it settles.

What stays: ``pending`` rows (work to do) and ``dead`` rows (dead letters an admin sees and
retries), whatever their age.

Batches: the rows are walked in id order (the primary key, so the plan never depends on the
planner's guess about the status index), ``batch_size`` rows at a time; each batch is one
transaction that deletes the finished old rows among them, so the SQLite writer (the store's
write gate) is never held for long and PostgreSQL never builds one huge transaction. Ids grow
with the age column, so the walk stops at the first batch that reaches a row inside the
retention; a row that raced ahead of an older one (another instance's clock, a slow commit) is
left to the next sweep. Instances pruning at the same time on PostgreSQL only repeat each
other's deletes (the second waits for the first's row locks, then finds the rows gone).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, Table, delete, select

from app.storage.queues import DONE, SUPERSEDED
from app.storage.tables import inbox, outbox

__all__ = ["DEFAULT_BATCH_SIZE", "MAX_BATCH_SIZE", "Batch", "Pruned", "delete_finished_batch", "prune_finished"]

DEFAULT_BATCH_SIZE = 5_000
MAX_BATCH_SIZE = 10_000
"""A batch's ids are bound one parameter each; SQLite allows 32,766 per statement."""

_INBOX_FINISHED = (DONE,)
_OUTBOX_FINISHED = (DONE, SUPERSEDED)

Writing = Callable[[], AbstractContextManager[Connection]]
"""Opens one write transaction (the store's write gate held on SQLite), committed on a clean exit."""


@dataclass(frozen=True)
class Pruned:
    """Rows deleted by one :func:`prune_finished` call."""

    inbox: int = 0
    outbox: int = 0
    stopped: bool = False
    """``should_stop`` ended the call before every old finished row was deleted."""


@dataclass(frozen=True)
class Batch:
    """What one batch of the walk did."""

    deleted: int
    last_id: int | None
    """The highest id the batch looked at; None when no row is left after the start."""
    reached_retention: bool
    """The batch met a row inside the retention: the rows after it are newer still."""


def delete_finished_batch(
    conn: Connection,
    table: Table,
    statuses: tuple[str, ...],
    age: Column[datetime],
    cutoff: datetime,
    after_id: int,
    batch_size: int,
) -> Batch:
    """Look at the ``batch_size`` rows of ``table`` after ``after_id`` (by id) and delete those in
    ``statuses`` whose ``age`` is before ``cutoff``."""
    c = table.c
    rows = conn.execute(select(c.id, c.status, age).where(c.id > after_id).order_by(c.id).limit(batch_size)).all()
    if not rows:
        return Batch(0, None, reached_retention=False)
    old = [row.id for row in rows if row.status in statuses and row[2] < cutoff]
    deleted = 0
    if old:
        stmt = delete(table).where(c.id.in_(old))
        if conn.dialect.name == "postgresql":
            # Other writers commit between the read and the delete (a late claimer may still mark a
            # done row failed): check again. On SQLite the write gate and BEGIN IMMEDIATE make the
            # read and the delete one exclusive step, and a status there would steer its planner to
            # the status index, a scan of every row kept (measured: ~0.13 s a batch at 1 M rows).
            stmt = stmt.where(c.status.in_(statuses), age < cutoff)
        deleted = int(conn.execute(stmt).rowcount or 0)
    return Batch(deleted, int(rows[-1].id), reached_retention=any(row[2] >= cutoff for row in rows))


def _prune_table(
    writing: Writing,
    table: Table,
    statuses: tuple[str, ...],
    age: Column[datetime],
    cutoff: datetime,
    batch_size: int,
    should_stop: Callable[[], bool],
) -> tuple[int, bool]:
    """(rows deleted, whether ``should_stop`` cut the walk short)."""
    deleted, after_id = 0, 0
    while True:
        if should_stop():
            return deleted, True
        with writing() as conn:
            batch = delete_finished_batch(conn, table, statuses, age, cutoff, after_id, batch_size)
        deleted += batch.deleted
        if batch.last_id is None or batch.reached_retention:
            return deleted, False
        after_id = batch.last_id


def _never() -> bool:
    return False


def prune_finished(
    writing: Writing,
    cutoff: datetime,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    should_stop: Callable[[], bool] = _never,
) -> Pruned:
    """Delete the finished inbox and outbox rows older than ``cutoff`` (see the module doc).

    ``should_stop`` is asked before each batch; when it answers True the call ends there
    (:attr:`Pruned.stopped`), every batch before it committed.
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}")
    n_inbox, stopped = _prune_table(
        writing, inbox, _INBOX_FINISHED, inbox.c.received_at, cutoff, batch_size, should_stop
    )
    n_outbox = 0
    if not stopped:
        n_outbox, stopped = _prune_table(
            writing, outbox, _OUTBOX_FINISHED, outbox.c.created_at, cutoff, batch_size, should_stop
        )
    return Pruned(n_inbox, n_outbox, stopped)
