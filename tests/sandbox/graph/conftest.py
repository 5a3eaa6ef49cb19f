"""Fixtures: a fresh Graph sandbox on loopback, a bearer token, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from graph_fixtures import Receiver, fetch_token
from starlette.applications import Starlette
from starlette.routing import Route

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.graph import GraphSimulator
from app.sandbox.world import TeamWorld


@pytest.fixture
def sim() -> GraphSimulator:
    return GraphSimulator(TeamWorld(seed=1))


@pytest.fixture
def served(sim: GraphSimulator) -> Iterator[ServedApp]:
    app = serve_in_thread(sim.app)
    yield app
    app.stop()


@pytest.fixture
def graph(served: ServedApp) -> Iterator[httpx.Client]:
    token = fetch_token(served.url)
    with httpx.Client(
        base_url=served.url, headers={"Authorization": f"Bearer {token}"}, timeout=15
    ) as client:
        yield client


@pytest.fixture
def me_id(sim: GraphSimulator) -> str:
    return sim.user("me").id


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    app = Starlette(
        routes=[
            Route("/notify", rec.handle, methods=["POST"]),
            Route("/lifecycle", rec.handle, methods=["POST"]),
        ]
    )
    served = serve_in_thread(app)
    rec.url = served.url
    yield rec
    served.stop()
