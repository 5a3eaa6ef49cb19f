"""Push deliveries: accepted only on a channel we opened with its token; ``sync`` asks for nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI, Request, Response

from app.connectors.base import WebhookHint
from app.connectors.google_calendar import Channel, GoogleCalendarConnector
from app.errors import WebhookRejected
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.google_calendar import GoogleCalendarSimulator
from app.settings import GoogleCalendarSettings

CHANNEL = Channel(id="chan-1", calendar="team@orbit.example", token="s3cret-token", resource_id="res-1")


def _headers(**overrides: str | None) -> dict[str, str]:
    headers: dict[str, str | None] = {
        "X-Goog-Channel-ID": "chan-1",
        "X-Goog-Channel-Token": "s3cret-token",
        "X-Goog-Resource-ID": "res-1",
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "7",
        "X-Goog-Resource-URI": "https://www.googleapis.com/calendar/v3/calendars/team%40orbit.example/events",
    }
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v is not None}


@pytest.fixture
def offline() -> GoogleCalendarConnector:
    connector = GoogleCalendarConnector("google-team", GoogleCalendarSettings(access_token="t"))  # type: ignore[arg-type]
    connector.remember_channel(CHANNEL)
    return connector


def test_a_change_on_our_channel_asks_to_sync_its_calendar(offline: GoogleCalendarConnector) -> None:
    offline.verify(_headers(), b"")
    assert offline.parse(_headers(), b"") == [
        WebhookHint(
            connector="google-team", stream="events", partition="team@orbit.example", delivery_id="chan-1:7"
        )
    ]


def test_header_names_are_case_insensitive(offline: GoogleCalendarConnector) -> None:
    lower = {k.lower(): v for k, v in _headers().items()}
    assert offline.parse(lower, b"")[0].partition == "team@orbit.example"


def test_the_sync_message_asks_for_nothing(offline: GoogleCalendarConnector) -> None:
    headers = _headers(**{"X-Goog-Resource-State": "sync", "X-Goog-Message-Number": "1"})
    offline.verify(headers, b"")
    assert offline.parse(headers, b"") == []


@pytest.mark.parametrize(
    "overrides,status",
    [
        ({"X-Goog-Channel-ID": "someone-elses-channel"}, 401),
        ({"X-Goog-Channel-Token": "s3cret-tokeN"}, 401),
        ({"X-Goog-Channel-Token": ""}, 401),
        ({"X-Goog-Channel-Token": None}, 401),
        ({"X-Goog-Channel-ID": None}, 400),
        ({"X-Goog-Resource-State": "deleted"}, 400),
        ({"X-Goog-Message-Number": None}, 400),
        ({"X-Goog-Message-Number": "seven"}, 400),
    ],
)
def test_deliveries_that_do_not_prove_our_channel_are_rejected(
    offline: GoogleCalendarConnector, overrides: dict[str, str | None], status: int
) -> None:
    with pytest.raises(WebhookRejected) as caught:
        offline.verify(_headers(**overrides), b"")
    assert caught.value.status_code == status
    with pytest.raises(WebhookRejected):
        offline.parse(_headers(**overrides), b"")


class _Inbox:
    def __init__(self) -> None:
        self.deliveries: list[dict[str, str]] = []
        self.arrived = threading.Condition()

    def wait_for(self, count: int) -> list[dict[str, str]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.deliveries) >= count, 10)
            return list(self.deliveries)


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, ServedApp]]:
    app = FastAPI()
    box = _Inbox()

    @app.post("/hooks/google")
    async def hook(request: Request) -> Response:
        with box.arrived:
            box.deliveries.append(dict(request.headers))
            box.arrived.notify_all()
        return Response(status_code=204)

    served = serve_in_thread(app)
    try:
        yield box, served
    finally:
        served.stop()


async def test_real_push_deliveries_verify_and_name_the_watched_calendar(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator, inbox: tuple[_Inbox, ServedApp]
) -> None:
    box, served = inbox
    channel = await connector.open_channel(sim.team_calendar, f"{served.url}/hooks/google", ttl_s=3600)
    assert channel.expiration is not None and channel.expiration > datetime.now(UTC)
    sim.create_event(
        sim.team_calendar, {"summary": "ping", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}}
    )
    sync, change = box.wait_for(2)
    assert connector.parse(sync, b"") == []
    (hint,) = connector.parse(change, b"")
    assert hint.partition == sim.team_calendar and hint.delivery_id == f"{channel.id}:2"
    await connector.close_channel(channel.id)
    with pytest.raises(WebhookRejected):
        connector.verify(change, b"")
    assert sim.channels.channels == {}
