"""Graph subscriptions as the Outlook receiver sees them: read from the store's subscription rows.

The subscription manager records every subscription it creates, so any instance (and a
restarted one) verifies notifications of the hub's subscriptions, and only of those.
The ``clientState`` is the connector's configured secret, never stored.
"""

from __future__ import annotations

from app.connectors.outlook.webhooks import GraphSubscription, SubscriptionRegistry
from app.storage.protocol import Store

__all__ = ["GRAPH_VENDOR", "StoredSubscriptions"]

GRAPH_VENDOR = "graph"


class StoredSubscriptions(SubscriptionRegistry):
    """A :class:`SubscriptionRegistry` backed by the store (blocking reads: call from a worker thread).

    ``mark`` is a no-op: lifecycle events reach the subscription manager through the inbox.
    """

    def __init__(self, store: Store, connector: str, client_state: str | None) -> None:
        super().__init__()
        self._store = store
        self._connector = connector
        self._client_state = client_state

    def get(self, sub_id: str) -> GraphSubscription | None:
        if self._client_state is None:
            return None
        row = self._store.get_subscription(GRAPH_VENDOR, sub_id)
        if row is None or row.connector != self._connector or row.status not in ("active", "stopping"):
            return None
        return GraphSubscription(row.external_id, row.partition, self._client_state, row.expires_at)

    def mark(self, sub_id: str, lifecycle_event: str) -> None:
        return None
