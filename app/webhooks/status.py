"""What the webhooks add to the admin status: freshness per pair, subscriptions, inbox, connector health."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.api.schemas import InboxStatsPublic, StatusPublic, SubscriptionPublic
from app.hub import Hub
from app.settings import PairSettings
from app.sync.runs import utc_now
from app.webhooks.subscriptions import SubscriptionManager

__all__ = ["FRESHNESS_WINDOW", "add_webhook_status"]

FRESHNESS_WINDOW = timedelta(hours=24)
_INBOX_CAP = 1000


def _connectors_of(pair: PairSettings) -> set[str]:
    return {pair.source.connector} | ({pair.target.connector} if pair.target else set())


def add_webhook_status(
    status: StatusPublic, hub: Hub, subscriptions: SubscriptionManager | None, now: datetime | None = None
) -> StatusPublic:
    """``status`` with lag, webhook coverage, connector health, subscriptions and inbox depth filled in."""
    store = hub.db
    now = now or utc_now()
    pairs = {p.id: p for p in hub.settings.pairs}
    for pair in status.pairs:
        conf = pairs[pair.id]
        stats = store.change_stats(conf.source.connector, conf.source.stream, now - FRESHNESS_WINDOW)
        pair.changes_24h = stats.changes
        pair.webhook_coverage = stats.by_webhook / stats.changes if stats.changes else None
        pair.lag_p50_s, pair.lag_p95_s, pair.lag_max_s = stats.lag_p50_s, stats.lag_p95_s, stats.lag_max_s
    for connector in status.connectors:
        if not connector.enabled:
            connector.health = "disabled"
            continue
        using = [p for p in status.pairs if p.enabled and connector.name in _connectors_of(pairs[p.id])]
        failing = [p for p in using if p.state == "failing"]
        if failing:
            last = failing[0].last_run
            connector.health = "failing"
            connector.health_detail = f"{failing[0].id}: [{last.error_class}] {last.error}" if last else None
        elif any(p.last_run is not None for p in using):
            connector.health = "ok"
    if subscriptions is not None:
        notes = {n.connector: n for n in subscriptions.notes()}
        for connector in status.connectors:
            note = notes.get(connector.name)
            if note is not None:
                connector.webhook_mode, connector.webhook_detail, connector.webhook_url = (
                    note.mode,
                    note.detail,
                    note.callback_url,
                )
    status.subscriptions = [
        SubscriptionPublic(
            vendor=row.vendor,
            id=row.external_id,
            connector=row.connector,
            stream=row.stream,
            partition=row.partition,
            status=row.status,
            expires_at=row.expires_at,
            expires_in_s=(row.expires_at - now).total_seconds() if row.expires_at else None,
            renewed_at=row.renewed_at,
            last_error=row.last_error,
        )
        for row in store.list_subscriptions()
    ]
    pending = len(store.inbox_list(status="pending", limit=_INBOX_CAP))
    dead = len(store.inbox_list(status="dead", limit=_INBOX_CAP))
    status.inbox = InboxStatsPublic(pending=pending, dead=dead, capped=_INBOX_CAP in (pending, dead))
    return status
