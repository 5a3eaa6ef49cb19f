"""Google push channels as the Google receiver sees them: read from the store's subscription rows.

The subscription manager opens channels (``GoogleCalendarConnector.open_channel``) and
records them in the store, so every instance, and a restarted one, knows them. The
channel token is the connector's configured ``channel_token`` (what ``open_channel``
sends), so it is never stored; the receiver compares it in constant time.
"""

from __future__ import annotations

from app.connectors.google_calendar.webhooks import Channel, ChannelRegistry
from app.storage.protocol import Store, SubscriptionRow

__all__ = ["GOOGLE_VENDOR", "StoredChannels", "channel_from_row"]

GOOGLE_VENDOR = "google"


def channel_from_row(row: SubscriptionRow, token: str) -> Channel:
    return Channel(
        id=row.external_id,
        calendar=row.partition,
        token=token,
        resource_id=row.resource or "",
        expiration=row.expires_at,
    )


class StoredChannels(ChannelRegistry):
    """A :class:`ChannelRegistry` backed by the store (blocking reads: call from a worker thread)."""

    def __init__(self, store: Store, connector: str, secret: str | None) -> None:
        super().__init__()
        self._store = store
        self._connector = connector
        self._secret = secret

    def get(self, channel_id: str) -> Channel | None:
        if self._secret is None:
            return None
        row = self._store.get_subscription(GOOGLE_VENDOR, channel_id)
        if row is None or row.connector != self._connector or row.status not in ("active", "stopping"):
            return None
        return channel_from_row(row, self._secret)
