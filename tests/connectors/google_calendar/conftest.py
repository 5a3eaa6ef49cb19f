"""A served simulator and a connector entered against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from gcal_connector_helpers import fast_policy, sandbox_settings

from app.connectors.google_calendar import GoogleCalendarConnector
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.google_calendar import GoogleCalendarSimulator


@pytest.fixture
def sim() -> GoogleCalendarSimulator:
    return GoogleCalendarSimulator()


@pytest.fixture
def served(sim: GoogleCalendarSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
async def connector(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> AsyncIterator[GoogleCalendarConnector]:
    settings = sandbox_settings(served.url, [sim.team_calendar, sim.user_email])
    async with GoogleCalendarConnector("google-team", settings, retry_policy=fast_policy()) as conn:
        yield conn
