"""The subscription manager keeps one Google channel per calendar: idempotent across restarts, renewed
before expiry by opening a new channel and stopping the old (Google channels cannot be extended)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.connectors.google_calendar import GoogleCalendarConnector
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.google_calendar import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    GoogleCalendarSimulator,
)
from app.webhooks.subscriptions import SubscriptionManager
from webhooks.kit import GOOGLE_TOKEN, Running, hub_settings, running_app


@pytest.fixture
def google() -> Iterator[tuple[GoogleCalendarSimulator, ServedApp]]:
    sim = GoogleCalendarSimulator()
    served = serve_in_thread(sim.app)
    try:
        yield sim, served
    finally:
        served.stop()


@pytest.fixture
async def run(tmp_path: Path, google: tuple[GoogleCalendarSimulator, ServedApp]) -> AsyncIterator[Running]:
    sim, served = google
    conf = {
        "google": {
            "type": "google_calendar",
            "base_url": served.url,
            "token_uri": f"{served.url}/token",
            "access_token": SANDBOX_ACCESS_TOKEN,
            "refresh_token": SANDBOX_REFRESH_TOKEN,
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "calendars": [sim.team_calendar],
            "channel_token": GOOGLE_TOKEN,
        }
    }
    # Nothing listens there: the sandbox's "sync" message to it just fails, as a dropped one would.
    settings = hub_settings(tmp_path, conf, server={"public_base_url": "http://127.0.0.1:9"})
    google_conf = settings.connectors["google"]
    async with running_app(settings) as running, GoogleCalendarConnector("google", google_conf) as connector:  # type: ignore[arg-type]
        running.hub.connectors["google"] = connector
        yield running


class _Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_reconciling_again_or_after_a_restart_opens_no_second_channel(
    run: Running, google: tuple[GoogleCalendarSimulator, ServedApp]
) -> None:
    sim = google[0]
    await SubscriptionManager(run.hub).reconcile()
    await SubscriptionManager(run.hub).reconcile()  # a restarted process: state comes from the store
    rows = run.hub.db.list_subscriptions("google")
    assert [(r.vendor, r.partition, r.status) for r in rows] == [("google", sim.team_calendar, "active")]
    assert list(sim.channels.channels) == [rows[0].external_id]
    assert rows[0].expires_at is not None and rows[0].expires_at - datetime.now(UTC) > timedelta(days=6)


async def test_a_channel_close_to_expiry_is_replaced_then_stopped(
    run: Running, google: tuple[GoogleCalendarSimulator, ServedApp]
) -> None:
    sim = google[0]
    clock = _Clock()
    manager = SubscriptionManager(run.hub, clock=clock, renew_margin=timedelta(days=1))
    await manager.reconcile()
    [old] = run.hub.db.list_subscriptions("google")

    clock.now += timedelta(days=6, hours=12)  # 12 h left: inside the renewal margin
    await manager.reconcile()
    [new] = run.hub.db.list_subscriptions("google")
    assert new.external_id != old.external_id
    assert list(sim.channels.channels) == [new.external_id]  # the old one was stopped at Google
    assert manager.errors == {}
