"""Microsoft Graph change-notification subscriptions, one per Outlook calendar.

Creation makes Graph validate both callback URLs (the intake answers the
``validationToken``); a subscription lasts at most about 3 to 7 days, so it is renewed
with ``PATCH expirationDateTime`` before it ends. Lifecycle events: ``subscriptionRemoved``
-> create it again; ``reauthorizationRequired`` -> renew (which reauthorizes it);
``missed`` -> the notifications were lost: the receiver's hint syncs the calendar from its cursor.

The Graph calls themselves are the Outlook connector's (``subscribe``,
``renew_subscription``, ``unsubscribe``); this module decides when to make them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

import structlog

from app.errors import RecordNotFound
from app.hub import Hub
from app.storage.protocol import InboxItem, SubscriptionRow
from app.sync.runs import Clock
from app.webhooks.graph_registry import GRAPH_VENDOR
from app.webhooks.sources import GRAPH_LIFECYCLE_ROUTE, ROUTES

__all__ = ["GRAPH_VENDOR", "SUBSCRIPTION_MINUTES", "GraphSubscriptions"]

log = structlog.get_logger(__name__)

SUBSCRIPTION_MINUTES = 4320
"""Asked for at creation and renewal (3 days); Outlook events allow up to 10,080 minutes."""
STREAM = "events"


class _GraphSubscriber(Protocol):
    """What the Outlook connector offers for subscriptions (``OutlookConnector``)."""

    async def list_partitions(self, stream: str) -> list[str]: ...

    async def subscribe(
        self, partition: str, notification_url: str, lifecycle_url: str | None = None, minutes: int = ...
    ) -> Any: ...

    async def renew_subscription(self, sub_id: str, minutes: int = ...) -> None: ...

    async def unsubscribe(self, sub_id: str) -> None: ...


class GraphSubscriptions:
    def __init__(
        self, hub: Hub, callback: Callable[[str], str | None], *, clock: Clock, renew_margin: timedelta
    ) -> None:
        self._hub = hub
        self._callback = callback
        self._clock = clock
        self._renew_margin = renew_margin

    async def ensure(self, name: str, conf: Any, connector: Any) -> None:
        url, lifecycle = self._callback(ROUTES["outlook"]), self._callback(GRAPH_LIFECYCLE_ROUTE)
        if url is None or lifecycle is None:
            return
        if conf.client_state is None:
            raise ValueError("client_state is not set: Graph notifications cannot be verified")
        graph: _GraphSubscriber = connector
        rows = [
            r
            for r in await asyncio.to_thread(self._hub.db.list_subscriptions, name)
            if r.vendor == GRAPH_VENDOR
        ]
        calendars = conf.calendars or await graph.list_partitions(STREAM)
        now = self._clock()
        for calendar in calendars:
            mine = [r for r in rows if r.partition == calendar and r.status == "active"]
            if not mine:
                await self._create(name, graph, calendar, url, lifecycle)
                continue
            for row in mine:
                if row.expires_at is None or row.expires_at - now <= self._renew_margin:
                    await self._renew(name, graph, row, url, lifecycle)
        for row in rows:
            if row.partition not in calendars:
                await self._drop(graph, row)

    async def _create(
        self, name: str, graph: _GraphSubscriber, calendar: str, url: str, lifecycle: str
    ) -> None:
        sub = await graph.subscribe(calendar, url, lifecycle, SUBSCRIPTION_MINUTES)
        row = SubscriptionRow(
            vendor=GRAPH_VENDOR,
            external_id=str(sub.id),
            connector=name,
            stream=STREAM,
            partition=calendar,
            status="active",
            created_at=self._clock(),
            expires_at=sub.expiration or self._clock() + timedelta(minutes=SUBSCRIPTION_MINUTES),
            address=url,
        )
        await asyncio.to_thread(self._hub.db.put_subscription, row)
        log.info(
            "subscriptions.graph.created", connector=name, calendar=calendar, subscription=row.external_id
        )

    async def _renew(
        self, name: str, graph: _GraphSubscriber, row: SubscriptionRow, url: str, lifecycle: str
    ) -> None:
        try:
            await graph.renew_subscription(row.external_id, SUBSCRIPTION_MINUTES)
        except RecordNotFound:
            # Graph dropped it (expired or removed): a new one replaces it.
            await asyncio.to_thread(self._hub.db.delete_subscription, row.vendor, row.external_id)
            await self._create(name, graph, row.partition, url, lifecycle)
            return
        now = self._clock()
        renewed = replace(
            row, expires_at=now + timedelta(minutes=SUBSCRIPTION_MINUTES), renewed_at=now, last_error=None
        )
        await asyncio.to_thread(self._hub.db.put_subscription, renewed)
        log.info("subscriptions.graph.renewed", connector=name, subscription=row.external_id)

    async def _drop(self, graph: _GraphSubscriber, row: SubscriptionRow) -> None:
        await graph.unsubscribe(row.external_id)
        await asyncio.to_thread(self._hub.db.delete_subscription, row.vendor, row.external_id)

    async def on_lifecycle(self, item: InboxItem) -> None:
        """Act on one stored lifecycle delivery (verified by the intake); raises to be retried."""
        notes = json.loads(item.body).get("value") or []
        for note in notes:
            sub_id, event = str(note.get("subscriptionId")), str(note.get("lifecycleEvent"))
            row = await asyncio.to_thread(self._hub.db.get_subscription, GRAPH_VENDOR, sub_id)
            if row is None:
                log.info("subscriptions.graph.lifecycle_unknown", subscription=sub_id, lifecycle_event=event)
                continue
            conf = self._hub.settings.connectors[row.connector]
            connector = self._hub.connectors.get(row.connector)
            if connector is None:
                raise RuntimeError(f"connector {row.connector!r} is not open")
            log.info("subscriptions.graph.lifecycle", subscription=sub_id, lifecycle_event=event)
            if event == "subscriptionRemoved":
                await asyncio.to_thread(self._hub.db.delete_subscription, GRAPH_VENDOR, sub_id)
                await self.ensure(row.connector, conf, connector)
            elif event == "reauthorizationRequired":
                await self._renew_now(row, conf, connector)

    async def _renew_now(self, row: SubscriptionRow, conf: Any, connector: Any) -> None:
        url, lifecycle = self._callback(ROUTES["outlook"]), self._callback(GRAPH_LIFECYCLE_ROUTE)
        if url is None or lifecycle is None or conf.client_state is None:
            return
        await self._renew(row.connector, connector, row, url, lifecycle)
