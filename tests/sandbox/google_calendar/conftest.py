"""A served Google Calendar simulator, a push receiver, googleapiclient clients and the discovery check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from gcal_discovery import Discovery
from gcal_helpers import Receiver, make_service

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.google_calendar import (
    GoogleCalendarSimulator,
)


@pytest.fixture(scope="session")
def discovery() -> Discovery:
    return Discovery()


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
def service(served: ServedApp) -> Any:
    """googleapiclient with the endpoint replacing ``rootUrl + servicePath`` (no ``/calendar/v3``)."""
    return make_service(served.url)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    box = Receiver(url="")

    @app.post("/notifications")
    async def notifications(request: Request) -> Response:
        body = await request.body()
        with box.arrived:
            box.deliveries.append(({k.lower(): v for k, v in request.headers.items()}, body))
            box.arrived.notify_all()
        return Response(status_code=200)

    served = serve_in_thread(app)
    box.url = f"{served.url}/notifications"
    try:
        yield box
    finally:
        served.stop()
