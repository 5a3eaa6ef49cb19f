"""Apply: write a prepared page and the cursor after it in ONE store transaction.

This is the whole crash-safety argument: the cursor can never point past records
that are not committed, so a run that dies between pages resumes at the last
committed page, and one that dies inside a page redoes that page (idempotently).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from app.models import Record
from app.storage.protocol import CursorKey, Store
from app.sync.derive import derive_page
from app.sync.prepare import Prepared

__all__ = ["commit_page", "set_cursor"]


def commit_page(
    store: Store, prepared: Sequence[Prepared], *, key: CursorKey, cursor_after: str | None, run_id: str,
    writers: Sequence[str] | None = None,
) -> None:
    """Commit ``prepared`` and, when given, ``cursor_after`` together (blocking: run in a worker thread).

    Every record is written by ``run_id``, or by its own entry of ``writers`` (the webhook
    deliveries that named them: one commit serves several).
    """
    who = writers if writers is not None else [run_id] * len(prepared)
    with store.transaction() as tx:
        # Upserts go in batches, one statement per writer. An upsert replaces the whole row, so a
        # record upserted twice needs only its last write; a tombstone of a record whose upsert
        # is still pending writes that upsert first, so a record deleted then revived in one
        # page ends live.
        pending: dict[str, tuple[Record, str]] = {}

        def flush() -> None:
            by_writer: dict[str, list[Record]] = defaultdict(list)
            for record, writer in pending.values():
                by_writer[writer].append(record)
            for writer, batch in by_writer.items():
                tx.upsert_records(batch, writer)
            pending.clear()

        for item, writer in zip(prepared, who, strict=True):
            if item.record is not None:
                pending.pop(item.hub_id, None)
                pending[item.hub_id] = (item.record, writer)
            elif item.tombstone is not None:
                if item.hub_id in pending:
                    flush()
                tx.tombstone_record(item.hub_id, item.tombstone, writer)
        flush()
        derive_page(tx, prepared)  # links and people of these records, in the same transaction
        if cursor_after is not None:
            tx.set_cursor(key, cursor_after)


def set_cursor(store: Store, key: CursorKey, value: str | None, *, full_sync_done: bool = False) -> None:
    """Store a cursor on its own: cleared after a dead cursor, or stamped once a full read completes."""
    with store.transaction() as tx:
        tx.set_cursor(key, value, full_sync_done=full_sync_done)
