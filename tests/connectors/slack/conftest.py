"""The Slack connector against a fresh Slack sandbox served on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from app.connectors.slack import SlackConnector
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator
from app.sandbox.slack.driver import SlackSourceDriver
from app.settings import SlackSettings

SIGNING_SECRET = "connector-signing-secret"


@pytest.fixture
def sim() -> SlackSimulator:
    return SlackSimulator(rate_limits=RateLimits(enabled=False))


@pytest.fixture
def served(sim: SlackSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def settings(served: ServedApp) -> SlackSettings:
    return SlackSettings(bot_token=SecretStr(DEFAULT_BOT_TOKEN), base_url=served.url,
                         signing_secret=SecretStr(SIGNING_SECRET), thread_lookback_days=7)


@pytest.fixture
async def connector(settings: SlackSettings) -> AsyncIterator[SlackConnector]:
    async with SlackConnector("slack", settings) as entered:
        yield entered


@pytest.fixture
def driver(sim: SlackSimulator) -> SlackSourceDriver:
    return SlackSourceDriver(sim)
