"""How fresh the hub is: lag from a source change to the hub, and who saw each change first.

Lag is ``fetched_at - updated_at_source`` of records changed in a window. A record is
written only when its version or content changes, so ``fetched_at`` and the record's
writer (``last_writer``) belong to whoever first saw its current version: a webhook
delivery (writer ``webhook:...``) or a sync run. That makes "share written by a
webhook" the webhook coverage of the window.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from app.storage.protocol import ChangeStats
from app.storage.tables import records

__all__ = ["MAX_SAMPLE", "WEBHOOK_WRITER_PREFIX", "change_stats"]

WEBHOOK_WRITER_PREFIX = "webhook:"
"""Lineage prefix of the records a webhook delivery wrote (``webhook:<source>:<delivery id>``)."""
MAX_SAMPLE = 5000
"""At most this many of the newest changes are measured: enough for percentiles, bounded work."""


def _percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(share * (len(sorted_values) - 1))))
    return sorted_values[index]


def change_stats(conn: Connection, connector: str, stream: str | None, since: datetime) -> ChangeStats:
    c = records.c
    stmt = (
        select(c.updated_at_source, c.fetched_at, c.last_writer)
        .where(c.connector == connector, c.updated_at >= since)
        .order_by(c.updated_at.desc())
        .limit(MAX_SAMPLE)
    )
    if stream is not None:
        stmt = stmt.where(c.stream == stream)
    changes = by_webhook = 0
    lags: list[float] = []
    for row in conn.execute(stmt):
        changes += 1
        if row.last_writer is not None and str(row.last_writer).startswith(WEBHOOK_WRITER_PREFIX):
            by_webhook += 1
        if row.updated_at_source is not None:
            # A clock skew between vendor and hub must not report a negative lag.
            lags.append(max(0.0, (row.fetched_at - row.updated_at_source).total_seconds()))
    lags.sort()
    return ChangeStats(
        changes=changes,
        by_webhook=by_webhook,
        lag_p50_s=_percentile(lags, 0.5) if lags else None,
        lag_p95_s=_percentile(lags, 0.95) if lags else None,
        lag_max_s=lags[-1] if lags else None,
    )
