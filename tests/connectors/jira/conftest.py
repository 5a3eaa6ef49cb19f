"""Fixtures: a Jira simulator over loopback HTTP and a connector entered against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from app.connectors.common import RetryPolicy
from app.connectors.jira import JiraConnector
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator
from app.sandbox.world import TeamWorld
from app.settings import JiraSettings

WEBHOOK_SECRET = "whsec-test-0123456789"


@pytest.fixture
def sim() -> JiraSimulator:
    return JiraSimulator(TeamWorld(seed=5), webhook_retry_delays_s=(0.05,))


@pytest.fixture
def served(sim: JiraSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def settings(sim: JiraSimulator, served: ServedApp) -> JiraSettings:
    return JiraSettings(
        email=sim.world.member("po").email,
        api_token=SecretStr(DEFAULT_API_TOKEN),
        base_url=served.url,
        projects=[sim.world.project_key],
        webhook_secret=SecretStr(WEBHOOK_SECRET),
        overlap_s=60,
    )


@pytest.fixture
def fast_policy() -> RetryPolicy:
    return RetryPolicy(base_delay_s=0.01, jitter_s=0.01)


@pytest.fixture
async def connector(settings: JiraSettings, fast_policy: RetryPolicy) -> AsyncIterator[JiraConnector]:
    async with JiraConnector("jira", settings, fast_policy) as conn:
        yield conn
