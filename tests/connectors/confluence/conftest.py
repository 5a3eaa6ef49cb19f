"""A served Confluence simulator and a connector pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from app.connectors.common import RetryPolicy
from app.connectors.confluence import ConfluenceConnector
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.confluence import ConfluenceSimulator
from app.settings import ConfluenceSettings


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def sim() -> ConfluenceSimulator:
    return ConfluenceSimulator()


@pytest.fixture
def served(sim: ConfluenceSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def settings(served: ServedApp, sim: ConfluenceSimulator) -> ConfluenceSettings:
    return ConfluenceSettings(
        base_url=served.url,
        email=sim.bot_email,
        api_token=SecretStr(sim.api_token),
        spaces=["CHK", "TEAM"],
        timeout_s=10,
    )


@pytest.fixture
async def connector(settings: ConfluenceSettings) -> AsyncIterator[ConfluenceConnector]:
    async with ConfluenceConnector("confluence", settings, retry_policy=RetryPolicy(sleep=_no_sleep)) as conn:
        yield conn
