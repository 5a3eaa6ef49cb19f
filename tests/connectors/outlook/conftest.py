"""Fixtures: the Graph sandbox on loopback and an entered OutlookConnector pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from outlook_helpers import settings_for

from app.connectors.outlook import OutlookConnector
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.graph import GraphSimulator


@pytest.fixture
def sim() -> GraphSimulator:
    return GraphSimulator()


@pytest.fixture
def served(sim: GraphSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    yield app
    app.stop()


@pytest.fixture
async def connector(served: ServedApp) -> AsyncIterator[OutlookConnector]:
    async with OutlookConnector("outlook", settings_for(served.url)) as conn:
        yield conn


@pytest.fixture
def calendar(sim: GraphSimulator) -> str:
    return next(c.id for c in sim.calendars("po") if c.is_default)
