"""A fresh Confluence simulator per test, served on loopback, and an authenticated httpx client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.confluence import ConfluenceSimulator


class FakeClock:
    """A settable clock: tests decide when a page is saved."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def sim(clock: FakeClock) -> ConfluenceSimulator:
    return ConfluenceSimulator(clock=clock)


@pytest.fixture
def served(sim: ConfluenceSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def http(served: ServedApp, sim: ConfluenceSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, auth=(sim.bot_email, sim.api_token), timeout=10) as client:
        yield client


@pytest.fixture
def chk_id(sim: ConfluenceSimulator) -> str:
    space = sim.wiki.space_by_key("CHK")
    assert space is not None
    return space.id
