"""The shared connector contract, for Slack messages against the Slack sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from app.connectors.slack import SlackConnector
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator
from app.sandbox.slack.driver import SlackSourceDriver
from app.settings import SlackSettings
from contract.connector_contract import WritableConnectorContract


@pytest.fixture
def slack_sim() -> Iterator[tuple[SlackSimulator, ServedApp]]:
    sim = SlackSimulator(rate_limits=RateLimits(enabled=False))
    served = serve_in_thread(sim.app)
    try:
        yield sim, served
    finally:
        served.stop()


@pytest.fixture
async def connector(slack_sim: tuple[SlackSimulator, ServedApp]) -> AsyncIterator[SlackConnector]:
    _, served = slack_sim
    settings = SlackSettings(bot_token=SecretStr(DEFAULT_BOT_TOKEN), base_url=served.url,
                             signing_secret=SecretStr("contract-signing-secret"))
    async with SlackConnector("slack", settings) as entered:
        yield entered


@pytest.fixture
def source(slack_sim: tuple[SlackSimulator, ServedApp]) -> SlackSourceDriver:
    return SlackSourceDriver(slack_sim[0])


class TestSlackMessagesContract(WritableConnectorContract):
    stream = "messages"
