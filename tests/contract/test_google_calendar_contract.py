"""The connector contract for Google Calendar, against the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.connectors.google_calendar import GoogleCalendarConnector
from app.connectors.google_calendar.mapping import external_id, split_external_id
from app.models import AnyBody
from app.models.calendar import Attendee, CalendarEvent
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.google_calendar import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    GoogleCalendarSimulator,
)
from app.settings import GoogleCalendarSettings
from contract.connector_contract import WritableConnectorContract


class GoogleCalendarSource:
    """Changes the sandbox the way a user of Google Calendar would."""

    def __init__(self, sim: GoogleCalendarSimulator) -> None:
        self.sim = sim
        self._made = 0

    def partition(self) -> str:
        return self.sim.team_calendar

    def _one_off(self, partition: str) -> str:
        with self.sim.lock:
            events = self.sim.store.calendar(partition).events.values()
            return next(
                e.id
                for e in events
                if not e.cancelled and not e.is_exception and not e.resource.get("recurrence")
            )

    def touch(self, partition: str) -> str:
        event_id = self._one_off(partition)
        self.sim.edit_event(partition, event_id, {"summary": "Edited by a user"})
        return external_id(partition, event_id)

    def add(self, partition: str) -> str:
        self._made += 1
        created = self.sim.create_event(
            partition,
            {
                "summary": f"Added by a user {self._made}",
                "start": {"dateTime": "2026-12-09T10:00:00+01:00"},
                "end": {"dateTime": "2026-12-09T11:00:00+01:00"},
            },
        )
        return external_id(partition, created["id"])

    def remove(self, partition: str) -> str:
        event_id = self._one_off(partition)
        self.sim.cancel_event(partition, event_id)
        return external_id(partition, event_id)

    def revoke_token(self) -> None:
        self.sim.chaos.update({"token_expired": True})

    def new_body(self, partition: str) -> AnyBody:
        start = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
        return CalendarEvent(
            calendar=partition,
            title="Created by the hub",
            start=start,
            end=start + timedelta(hours=1),
            attendees=(Attendee(email=self.sim.world.member("qa").email, name="Mei Chen"),),
        )

    def edited(self, body: AnyBody) -> AnyBody:
        assert isinstance(body, CalendarEvent)
        return body.model_copy(update={"title": body.title + " (edited)", "location": "Room Ada"})


def sandbox_settings(url: str, calendar: str) -> GoogleCalendarSettings:
    return GoogleCalendarSettings(
        base_url=url,
        token_uri=f"{url}/token",
        access_token=SANDBOX_ACCESS_TOKEN,
        refresh_token=SANDBOX_REFRESH_TOKEN,
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        calendars=[calendar],
    )


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
async def connector(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> AsyncIterator[GoogleCalendarConnector]:
    async with GoogleCalendarConnector(
        "google-team", sandbox_settings(served.url, sim.team_calendar)
    ) as conn:
        yield conn


@pytest.fixture
def source(sim: GoogleCalendarSimulator) -> GoogleCalendarSource:
    return GoogleCalendarSource(sim)


class TestGoogleCalendarContract(WritableConnectorContract):
    stream = "events"

    async def test_external_ids_name_the_calendar(
        self, connector: GoogleCalendarConnector, source: GoogleCalendarSource
    ) -> None:
        created = await connector.create(
            self.stream, source.partition(), source.new_body(source.partition()), origin="contract-test"
        )
        assert split_external_id(created.external_id)[0] == source.partition()
