"""Derive links and people again for records already stored (after an upgrade, or a rule change).

The engine derives as it writes, but a record that does not change is never rewritten,
so records stored before derivation existed (or before a rule changed) need this once:
``rederive(store, connectors)``. Idempotent; safe while syncs run (each batch is one
transaction, and a record a sync rewrites meanwhile is derived by that sync too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.models import Record
from app.storage.protocol import Store
from app.sync.derive.page import derive_records

__all__ = ["RederiveCounts", "rederive"]

BATCH = 200


@dataclass
class RederiveCounts:
    live: int = 0
    deleted: int = 0


def _flush(store: Store, batch: list[Record], counts: RederiveCounts) -> None:
    live = [r for r in batch if not r.deleted]
    gone = [r.hub_id for r in batch if r.deleted]
    with store.transaction() as tx:
        derive_records(tx, live, gone)
    counts.live += len(live)
    counts.deleted += len(gone)
    batch.clear()


def rederive(store: Store, connectors: Iterable[str], *, batch_size: int = BATCH) -> RederiveCounts:
    """Re-derive every record of ``connectors`` (blocking: run in a worker thread from async code)."""
    counts = RederiveCounts()
    for connector in connectors:
        batch: list[Record] = []
        for record in store.iter_records(connector, include_deleted=True):
            batch.append(record)
            if len(batch) >= batch_size:
                _flush(store, batch, counts)
        if batch:
            _flush(store, batch, counts)
    return counts
