"""Apply: write a prepared page and the cursor after it in ONE store transaction.

This is the whole crash-safety argument: the cursor can never point past records
that are not committed, so a run that dies between pages resumes at the last
committed page, and one that dies inside a page redoes that page (idempotently).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.models import Record
from app.storage.protocol import CursorKey, Store
from app.sync.derive import derive_page
from app.sync.prepare import Prepared

__all__ = ["commit_page", "set_cursor"]


def commit_page(
    store: Store, prepared: Sequence[Prepared], *, key: CursorKey, cursor_after: str | None, run_id: str,
) -> None:
    """Commit ``prepared`` and, when given, ``cursor_after`` together (blocking: run in a worker thread)."""
    with store.transaction() as tx:
        # Upserts go in batches (one statement each), in order: a batch is written before the
        # tombstone that follows it, so a record deleted then revived in one page ends live.
        batch: list[Record] = []
        for item in prepared:
            if item.record is not None:
                batch.append(item.record)
            elif item.tombstone is not None:
                tx.upsert_records(batch, run_id)
                batch = []
                tx.tombstone_record(item.hub_id, item.tombstone, run_id)
        tx.upsert_records(batch, run_id)
        derive_page(tx, prepared)  # links and people of these records, in the same transaction
        if cursor_after is not None:
            tx.set_cursor(key, cursor_after)


def set_cursor(store: Store, key: CursorKey, value: str | None, *, full_sync_done: bool = False) -> None:
    """Store a cursor on its own: cleared after a dead cursor, or stamped once a full read completes."""
    with store.transaction() as tx:
        tx.set_cursor(key, value, full_sync_done=full_sync_done)
