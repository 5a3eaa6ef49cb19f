"""Writes: origin marker on insert, If-Match preconditions, idempotent delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.connectors.google_calendar import GoogleCalendarConnector
from app.connectors.google_calendar.mapping import ORIGIN_KEY, split_external_id
from app.errors import PreconditionFailed
from app.models.calendar import CalendarEvent
from app.sandbox.google_calendar import GoogleCalendarSimulator

START = datetime(2026, 12, 15, 13, 0, tzinfo=UTC)


def _body(calendar: str, title: str = "Hub-made") -> CalendarEvent:
    return CalendarEvent(
        calendar=calendar,
        title=title,
        start=START,
        end=START + timedelta(minutes=30),
        location="Room Ada",
        ical_uid="hub-made@orbit.example",
    )


async def test_an_insert_carries_the_origin_marker_and_the_ical_uid(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    created = await connector.create("events", sim.team_calendar, _body(sim.team_calendar), origin="hub-42")
    stored = sim.event(*split_external_id(created.external_id))
    assert stored["extendedProperties"]["private"][ORIGIN_KEY] == "hub-42"
    assert stored["iCalUID"] == "hub-made@orbit.example"
    assert created.version == stored["etag"]


async def test_a_stale_etag_on_update_is_a_precondition_failure(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    created = await connector.create("events", sim.team_calendar, _body(sim.team_calendar), origin="hub")
    calendar, event_id = split_external_id(created.external_id)
    sim.edit_event(calendar, event_id, {"summary": "A user got there first"})
    with pytest.raises(PreconditionFailed):
        await connector.update(
            "events",
            created.external_id,
            _body(calendar, "Hub edit"),
            if_version=created.version,
            origin="hub",
        )
    assert sim.event(calendar, event_id)["summary"] == "A user got there first"


async def test_an_update_clears_fields_the_hub_emptied_and_keeps_the_marker(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    created = await connector.create("events", sim.team_calendar, _body(sim.team_calendar), origin="hub")
    edited = _body(sim.team_calendar, "No room").model_copy(update={"location": None})
    updated = await connector.update(
        "events", created.external_id, edited, if_version=created.version, origin="hub"
    )
    stored = sim.event(*split_external_id(created.external_id))
    assert "location" not in stored and stored["summary"] == "No room" and updated.version == stored["etag"]
    assert stored["extendedProperties"]["private"][ORIGIN_KEY] == "hub"


async def test_delete_honours_the_etag_and_is_idempotent(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    created = await connector.create("events", sim.team_calendar, _body(sim.team_calendar), origin="hub")
    with pytest.raises(PreconditionFailed):
        await connector.delete("events", created.external_id, if_version='"stale"')
    await connector.delete("events", created.external_id, if_version=created.version)
    await connector.delete("events", created.external_id, if_version=None)
    assert sim.event(*split_external_id(created.external_id))["status"] == "cancelled"
