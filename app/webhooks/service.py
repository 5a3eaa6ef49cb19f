"""Everything webhook-related one running hub holds, started and stopped with the app.

``WebhookService(hub)`` builds the receivers, the intake the routes call (with its
group-commit inbox writer), the inbox
processor and the subscription manager; ``start()`` launches the background work (from
the running event loop), ``stop()`` ends it.
"""

from __future__ import annotations

import time
from datetime import timedelta

from app.hub import Hub
from app.webhooks.inbox_writer import InboxWriter
from app.webhooks.intake import WebhookIntake
from app.webhooks.processor import InboxProcessor
from app.webhooks.receivers import EpochClock, ReceiverSet
from app.webhooks.subscriptions import SubscriptionManager

__all__ = ["WebhookService"]


class WebhookService:
    def __init__(
        self,
        hub: Hub,
        *,
        clock: EpochClock = time.time,
        backoff_base_s: float = 2.0,
        renew_margin: timedelta = timedelta(days=1),
    ) -> None:
        self.hub = hub
        self.receivers = ReceiverSet(hub.settings, hub.db, clock)
        # SQLite has one writer: one batch at a time; PostgreSQL commits a few batches side by side.
        sqlite = hub.settings.effective_database_url.startswith("sqlite")
        self.intake = WebhookIntake(
            hub.db, self.receivers, InboxWriter(hub.db, max_in_flight=1 if sqlite else 4)
        )
        self.subscriptions = SubscriptionManager(hub, renew_margin=renew_margin)
        self.processor = InboxProcessor(
            hub, self.receivers, on_lifecycle=self.subscriptions.on_lifecycle, backoff_base_s=backoff_base_s
        )
        self.started = False

    def start(self) -> None:
        self.processor.start()
        self.subscriptions.start()
        self.started = True

    async def stop(self) -> None:
        await self.intake.writer.drain()  # answer every delivery already verified
        await self.subscriptions.stop()
        await self.processor.stop()
        self.started = False
