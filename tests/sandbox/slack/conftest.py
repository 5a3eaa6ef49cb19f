"""A fresh Slack simulator per test, served over real HTTP on loopback, and a slack_sdk client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.slack import DEFAULT_BOT_TOKEN, RateLimits, SlackSimulator


@pytest.fixture
def sim() -> SlackSimulator:
    # Rate limits off unless a test turns them on: behaviour tests should not be paced.
    return SlackSimulator(rate_limits=RateLimits(enabled=False))


@pytest.fixture
def served(sim: SlackSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def web(served: ServedApp) -> WebClient:
    return WebClient(token=DEFAULT_BOT_TOKEN, base_url=served.url + "/api/", retry_handlers=[])
