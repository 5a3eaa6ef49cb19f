"""Graph event JSON <-> CalendarEvent: time zones, attendees, series, cancellation, writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.connectors.outlook.mapping import (
    ORIGIN_PROPERTY,
    from_unified,
    origin_of,
    parse_datetime,
    to_unified,
)
from app.errors import SkippableRecord
from app.models import EventStatus, ResponseStatus


def graph_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "AAMkAGI2-1",
        "changeKey": "DwAAABYAAA1",
        "subject": "Sprint 12 review",
        "body": {"contentType": "text", "content": "Demo of CHK-12"},
        "start": {"dateTime": "2026-12-04T13:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-04T14:00:00.0000000", "timeZone": "UTC"},
        "isAllDay": False,
        "isCancelled": False,
        "showAs": "busy",
        "location": {"displayName": "Board room"},
        "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/abc"},
        "organizer": {"emailAddress": {"name": "Amélie Laurent", "address": "Amelie@orbit.example"}},
        "attendees": [
            {
                "type": "required",
                "status": {"response": "accepted"},
                "emailAddress": {"name": "Jonas Becker", "address": "jonas@orbit.example"},
            },
            {
                "type": "optional",
                "status": {"response": "tentativelyAccepted"},
                "emailAddress": {"name": "Mei Chen", "address": "mei@orbit.example"},
            },
            {
                "type": "required",
                "status": {"response": "none"},
                "emailAddress": {"name": "Noah Williams", "address": "noah@orbit.example"},
            },
        ],
        "iCalUId": "passerelle-1-sprint-review@orbit.example",
        "seriesMasterId": None,
        "type": "singleInstance",
    }
    event.update(overrides)
    return event


def test_a_utc_event_maps_every_field() -> None:
    body = to_unified(graph_event(), "cal-1")
    assert body.calendar == "cal-1"
    assert body.title == "Sprint 12 review" and body.description == "Demo of CHK-12"
    assert body.start == datetime(2026, 12, 4, 13, tzinfo=UTC)
    assert body.location == "Board room"
    assert body.online_meeting_url == "https://teams.microsoft.com/l/meetup-join/abc"
    assert body.organizer == "amelie@orbit.example"
    assert [(a.email, a.response, a.optional) for a in body.attendees] == [
        ("jonas@orbit.example", ResponseStatus.ACCEPTED, False),
        ("mei@orbit.example", ResponseStatus.TENTATIVE, True),
        ("noah@orbit.example", ResponseStatus.NEEDS_ACTION, False),
    ]
    assert body.status is EventStatus.CONFIRMED
    assert body.ical_uid == "passerelle-1-sprint-review@orbit.example"


@pytest.mark.parametrize(
    ("zone", "expected_utc_hour"),
    [
        ("Romance Standard Time", 8),  # Paris in winter: UTC+1
        ("Europe/Paris", 8),
        ("Pacific Standard Time", 17),  # Los Angeles in winter: UTC-8
        ("UTC", 9),
    ],
)
def test_windows_and_iana_zone_names_give_the_same_instant(zone: str, expected_utc_hour: int) -> None:
    moment = parse_datetime({"dateTime": "2026-12-07T09:15:00.0000000", "timeZone": zone})
    assert moment.tzinfo is not None
    assert moment == datetime(2026, 12, 7, expected_utc_hour, 15, tzinfo=UTC)


def test_summer_time_is_applied_for_a_windows_zone() -> None:
    moment = parse_datetime({"dateTime": "2026-07-06T09:15:00", "timeZone": "Romance Standard Time"})
    assert moment == datetime(2026, 7, 6, 7, 15, tzinfo=UTC)


def test_seven_digit_fractions_are_kept_to_the_microsecond() -> None:
    moment = parse_datetime({"dateTime": "2026-12-07T09:15:00.1234567", "timeZone": "UTC"})
    assert moment.microsecond == 123456


def test_an_occurrence_carries_its_series_and_the_series_uid() -> None:
    body = to_unified(
        graph_event(
            seriesMasterId="AAMk-master",
            type="occurrence",
            iCalUId="040000008200E00074C5B7101A82E008-20261204",
        ),
        "cal-1",
        series_ical_uid="passerelle-1-sprint-review@orbit.example",
    )
    assert body.series_id == "AAMk-master"
    assert body.ical_uid == "passerelle-1-sprint-review@orbit.example"


def test_a_series_master_recurrence_becomes_an_rrule() -> None:
    recurrence = {
        "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["friday"]},
        "range": {"type": "endDate", "startDate": "2026-10-02", "endDate": "2027-03-26"},
    }
    body = to_unified(graph_event(recurrence=recurrence, type="seriesMaster"), "cal-1")
    assert body.recurrence == ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;UNTIL=20270326",)


def test_cancelled_and_all_day_events() -> None:
    cancelled = to_unified(graph_event(isCancelled=True), "cal-1")
    assert cancelled.status is EventStatus.CANCELLED
    all_day = to_unified(
        graph_event(
            isAllDay=True,
            start={"dateTime": "2026-12-10T00:00:00", "timeZone": "UTC"},
            end={"dateTime": "2026-12-11T00:00:00", "timeZone": "UTC"},
        ),
        "cal-1",
    )
    assert all_day.all_day is True
    assert (all_day.end - all_day.start).days == 1


def test_an_unmappable_event_is_skippable() -> None:
    with pytest.raises(SkippableRecord):
        to_unified(
            graph_event(start={"dateTime": "2026-12-10T10:00:00", "timeZone": "Mars/Olympus"}), "cal-1"
        )
    with pytest.raises(SkippableRecord):
        to_unified(graph_event(end={"dateTime": "2026-12-04T12:00:00", "timeZone": "UTC"}), "cal-1")
    # A bad attendee is validated with its event: the event is skipped, the read goes on.
    bad_guest = {"emailAddress": {"address": "noah@orbit.example", "name": 42}, "type": "required"}
    with pytest.raises(SkippableRecord):
        to_unified(graph_event(attendees=[bad_guest]), "cal-1")


def test_writes_send_utc_times_attendees_and_the_origin_marker() -> None:
    body = to_unified(graph_event(), "cal-1")
    payload = from_unified(body, origin="hub:run-7")
    assert payload["start"] == {"dateTime": "2026-12-04T13:00:00", "timeZone": "UTC"}
    assert payload["attendees"][1] == {
        "emailAddress": {"address": "mei@orbit.example", "name": "Mei Chen"},
        "type": "optional",
    }
    assert payload["singleValueExtendedProperties"] == [{"id": ORIGIN_PROPERTY, "value": "hub:run-7"}]
    assert origin_of(payload) == "hub:run-7"
    again = to_unified({**graph_event(), **payload, "organizer": graph_event()["organizer"]}, "cal-1")
    assert (again.title, again.start, again.end, again.location) == (
        body.title,
        body.start,
        body.end,
        body.location,
    )
