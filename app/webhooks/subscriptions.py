"""Keeps the hub's webhook subscriptions alive at every vendor, idempotently across restarts.

Every subscription lives in the store (:class:`~app.storage.protocol.SubscriptionRow`),
so a restarted instance renews what exists instead of registering a duplicate, and
the intake can refuse deliveries on channels it never opened. :meth:`reconcile` runs at
start and then periodically:

* Google Calendar: one push channel per calendar (``events.watch``). Channels cannot be
  renewed: before one expires a new channel is opened, then the old one is stopped
  (``channels.stop``).
* Outlook (Graph): see :mod:`app.webhooks.graph_subscriptions`.
* Slack: the Events request URL is set in the Slack app's configuration; there is
  nothing to call, so its state is shown as configured-elsewhere.
* Jira: ``POST /rest/api/3/webhook`` is open only to Connect and OAuth 2.0 apps and its
  deliveries carry no ``X-Hub-Signature`` (the spec's ``WebhookRegistrationDetails`` has
  no secret), which the Jira receiver refuses. The hub therefore expects an admin
  webhook registered in Jira with the configured ``webhook_secret``; it is shown as such.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

import structlog

from app.hub import Hub
from app.storage.protocol import InboxItem, SubscriptionRow
from app.sync.runs import Clock, utc_now
from app.webhooks.google_channels import GOOGLE_VENDOR, channel_from_row
from app.webhooks.graph_subscriptions import GraphSubscriptions
from app.webhooks.sources import ROUTES

__all__ = ["ConnectorNote", "SubscriptionManager"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ConnectorNote:
    """How webhooks reach one connector, for the status page."""

    connector: str
    type: str
    mode: str  # subscribed | admin_configured | app_configured | disabled
    callback_url: str | None
    detail: str


class _ChannelOpener(Protocol):
    async def list_partitions(self, stream: str) -> list[str]: ...

    async def open_channel(self, calendar: str, address: str, ttl_s: int | None = None) -> Any: ...

    async def close_channel(self, channel_id: str) -> None: ...

    def remember_channel(self, channel: Any) -> None: ...


class SubscriptionManager:
    def __init__(
        self,
        hub: Hub,
        *,
        clock: Clock = utc_now,
        renew_margin: timedelta = timedelta(days=1),
        interval_s: float = 900.0,
        google_ttl_s: int | None = None,
    ) -> None:
        self._hub = hub
        self._clock = clock
        self.renew_margin = renew_margin
        self._interval_s = interval_s
        self._google_ttl_s = google_ttl_s
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.errors: dict[str, str] = {}
        self.graph = GraphSubscriptions(hub, self._callback, clock=clock, renew_margin=renew_margin)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="webhook-subscriptions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.reconcile()
            await asyncio.sleep(self._interval_s)

    # --- what exists -----------------------------------------------------------------------------

    def _callback(self, route: str) -> str | None:
        base = self._hub.settings.server.public_base_url
        return base.rstrip("/") + route if base else None

    def notes(self) -> list[ConnectorNote]:
        out = []
        for name, conf in self._hub.settings.connectors.items():
            route = ROUTES.get(conf.type)
            if route is None:
                continue
            url = self._callback(route)
            if not conf.enabled:
                out.append(ConnectorNote(name, conf.type, "disabled", url, "connector disabled"))
            elif conf.type == "slack":
                out.append(
                    ConnectorNote(
                        name,
                        conf.type,
                        "app_configured",
                        url,
                        "set as the Events API request URL in the Slack app; delivery state "
                        "is only known from received events",
                    )
                )
            elif conf.type == "jira":
                secret = getattr(conf, "webhook_secret", None)
                out.append(
                    ConnectorNote(
                        name,
                        conf.type,
                        "admin_configured",
                        url,
                        "register this URL as a Jira admin webhook with the configured secret"
                        if secret
                        else "no webhook_secret configured: Jira deliveries are refused",
                    )
                )
            else:
                detail = self.errors.get(name) or (
                    "renewed automatically" if url else "server.public_base_url is not set: no subscription"
                )
                out.append(ConnectorNote(name, conf.type, "subscribed", url, detail))
        return out

    # --- reconcile ------------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Create what is missing, renew what expires within ``renew_margin``; never raises."""
        async with self._lock:
            for name, conf in self._hub.settings.connectors.items():
                connector = self._hub.connectors.get(name)
                if not conf.enabled or connector is None:
                    continue
                try:
                    if conf.type == "google_calendar":
                        await self._google(name, conf, connector)
                    elif conf.type == "outlook":
                        await self.graph.ensure(name, conf, connector)
                    else:
                        continue
                    self.errors.pop(name, None)
                except Exception as exc:
                    self.errors[name] = f"{type(exc).__name__}: {exc}"
                    log.warning("subscriptions.reconcile_failed", connector=name, error=self.errors[name])

    async def _google(self, name: str, conf: Any, connector: Any) -> None:
        address = self._callback(ROUTES["google_calendar"])
        if address is None:
            return
        if conf.channel_token is None:
            raise ValueError("channel_token is not set: Google push notifications cannot be verified")
        opener: _ChannelOpener = connector
        store = self._hub.db
        rows = [
            r for r in await asyncio.to_thread(store.list_subscriptions, name) if r.vendor == GOOGLE_VENDOR
        ]
        calendars = conf.calendars or await opener.list_partitions("events")
        now = self._clock()
        for calendar in calendars:
            mine = [r for r in rows if r.partition == calendar and r.status == "active"]
            fresh = [r for r in mine if r.expires_at is None or r.expires_at - now > self.renew_margin]
            if not fresh:
                await self._open_google(name, opener, calendar, address)
                for old in mine:
                    await self._stop_google(opener, old, conf.channel_token.get_secret_value())
        for row in rows:  # channels of calendars no longer configured, or left half-stopped
            if row.partition not in calendars or row.status == "stopping":
                await self._stop_google(opener, row, conf.channel_token.get_secret_value())

    async def _open_google(self, name: str, opener: _ChannelOpener, calendar: str, address: str) -> None:
        channel = await opener.open_channel(calendar, address, self._google_ttl_s)
        row = SubscriptionRow(
            vendor=GOOGLE_VENDOR,
            external_id=channel.id,
            connector=name,
            stream="events",
            partition=calendar,
            status="active",
            created_at=self._clock(),
            expires_at=channel.expiration,
            resource=channel.resource_id,
            address=address,
        )
        await asyncio.to_thread(self._hub.db.put_subscription, row)
        log.info(
            "subscriptions.google.opened",
            connector=name,
            calendar=calendar,
            channel=channel.id,
            expires_at=str(channel.expiration),
        )

    async def _stop_google(self, opener: _ChannelOpener, row: SubscriptionRow, token: str) -> None:
        store = self._hub.db
        # Marked first: if stopping fails, the next reconcile tries again, and deliveries still verify.
        await asyncio.to_thread(store.put_subscription, replace(row, status="stopping"))
        opener.remember_channel(channel_from_row(row, token))
        await opener.close_channel(row.external_id)
        await asyncio.to_thread(store.delete_subscription, row.vendor, row.external_id)
        log.info("subscriptions.google.stopped", connector=row.connector, channel=row.external_id)

    # --- Graph lifecycle --------------------------------------------------------------------------

    async def on_lifecycle(self, item: InboxItem) -> None:
        await self.graph.on_lifecycle(item)
