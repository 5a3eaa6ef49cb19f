"""An insert with an idempotency key: a retry adopts the event the first attempt made."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.connectors.google_calendar import GoogleCalendarConnector
from app.connectors.google_calendar.connector import event_id_for
from app.connectors.google_calendar.mapping import split_external_id
from app.errors import PreconditionFailed
from app.models.calendar import CalendarEvent
from app.sandbox.google_calendar import GoogleCalendarSimulator

START = datetime(2026, 12, 16, 10, 0, tzinfo=UTC)


def _body(calendar: str, ical_uid: str | None = None) -> CalendarEvent:
    return CalendarEvent(calendar=calendar, title="Hub-made", start=START, end=START + timedelta(minutes=30),
                         ical_uid=ical_uid)


def test_the_event_id_from_a_key_is_a_valid_google_id_and_stable() -> None:
    made = event_id_for("outbox-key-1")
    assert re.fullmatch(r"[a-v0-9]{5,1024}", made)
    assert made == event_id_for("outbox-key-1") != event_id_for("outbox-key-2")


async def test_a_retried_insert_with_the_same_key_adopts_the_first_event(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    calendar = sim.team_calendar
    first = await connector.create("events", calendar, _body(calendar), origin="hub", idempotency_key="k-1")
    sim.edit_event(*split_external_id(first.external_id), {"summary": "Renamed by a user"})
    retried = await connector.create("events", calendar, _body(calendar), origin="hub", idempotency_key="k-1")
    assert (retried.external_id, retried.adopted, first.adopted) == (first.external_id, True, False)
    assert retried.version != first.version  # the event as it is now, edit included
    assert split_external_id(first.external_id)[1] == event_id_for("k-1")


async def test_a_clash_on_the_ical_uid_is_not_adopted(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    calendar = sim.team_calendar
    await connector.create("events", calendar, _body(calendar, "same@orbit.example"), origin="hub",
                           idempotency_key="k-1")
    with pytest.raises(PreconditionFailed):
        await connector.create("events", calendar, _body(calendar, "same@orbit.example"), origin="hub",
                               idempotency_key="k-2")
