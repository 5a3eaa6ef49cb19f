"""Fixtures: a fresh Jira simulator served over loopback HTTP, an authenticated client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator
from app.sandbox.world import TeamWorld


@pytest.fixture
def sim() -> JiraSimulator:
    return JiraSimulator(TeamWorld(seed=7), webhook_retry_delays_s=(0.05, 0.05, 0.05))


@pytest.fixture
def served(sim: JiraSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def email(sim: JiraSimulator) -> str:
    return sim.world.member("po").email


@pytest.fixture
def http(served: ServedApp, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, auth=(email, DEFAULT_API_TOKEN), timeout=10) as client:
        yield client
