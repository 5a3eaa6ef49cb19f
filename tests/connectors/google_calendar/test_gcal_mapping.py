"""Google event JSON <-> CalendarEvent: pure mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.connectors.google_calendar.mapping import (
    ORIGIN_KEY,
    change_from_event,
    event_from_unified,
    origin_of,
    split_external_id,
    to_unified,
)
from app.errors import SkippableRecord
from app.models import DeleteReason
from app.models.calendar import Attendee, CalendarEvent, EventStatus, ResponseStatus

CAL = "team@orbit.example"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_an_all_day_event_maps_to_utc_midnight_dates() -> None:
    event = to_unified(
        CAL,
        {"id": "a1", "summary": "Offsite", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-03"}},
    )
    assert event.all_day
    assert event.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert event.end == datetime(2026, 12, 3, tzinfo=UTC)


def test_a_timed_event_keeps_its_instant_and_a_naive_time_uses_its_zone() -> None:
    offset = to_unified(
        CAL,
        {
            "id": "t1",
            "start": {"dateTime": "2026-12-01T09:15:00+01:00"},
            "end": {"dateTime": "2026-12-01T09:30:00+01:00"},
        },
    )
    assert not offset.all_day
    assert offset.start == datetime(2026, 12, 1, 8, 15, tzinfo=UTC)
    assert offset.start.utcoffset() == timedelta(hours=1)
    zoned = to_unified(
        CAL,
        {
            "id": "t2",
            "start": {"dateTime": "2026-07-01T09:15:00", "timeZone": "Europe/Paris"},
            "end": {"dateTime": "2026-07-01T09:30:00", "timeZone": "Europe/Paris"},
        },
    )
    assert zoned.start == datetime(2026, 7, 1, 7, 15, tzinfo=UTC)


def test_a_recurring_master_and_its_exception_are_separate_and_linked() -> None:
    master = to_unified(
        CAL,
        {
            "id": "m1",
            "summary": "Daily scrum",
            "iCalUID": "scrum@x",
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
            "start": {"dateTime": "2026-11-02T09:15:00+01:00", "timeZone": "Europe/Paris"},
            "end": {"dateTime": "2026-11-02T09:30:00+01:00", "timeZone": "Europe/Paris"},
        },
    )
    exception = to_unified(
        CAL,
        {
            "id": "m1_20261105T081500Z",
            "summary": "Daily scrum (late)",
            "iCalUID": "scrum@x",
            "recurringEventId": "m1",
            "originalStartTime": {"dateTime": "2026-11-05T09:15:00+01:00"},
            "start": {"dateTime": "2026-11-05T09:45:00+01:00"},
            "end": {"dateTime": "2026-11-05T10:00:00+01:00"},
        },
    )
    assert master.recurrence == ("RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",) and master.series_id is None
    assert exception.recurrence == () and exception.series_id == f"{CAL}/m1"
    assert master.ical_uid == exception.ical_uid == "scrum@x"


def test_a_cancelled_event_is_a_deleted_tombstone() -> None:
    change = change_from_event(
        CAL, {"kind": "calendar#event", "etag": '"9"', "id": "gone", "status": "cancelled"}, NOW
    )
    assert change.body is None and change.tombstone is not None
    assert change.tombstone.reason == DeleteReason.DELETED and change.tombstone.deleted_at == NOW
    assert change.version == '"9"' and change.external_id == f"{CAL}/gone"


def test_people_meeting_link_and_status_are_mapped() -> None:
    event = to_unified(
        CAL,
        {
            "id": "p1",
            "status": "tentative",
            "start": {"date": "2026-12-01"},
            "end": {"date": "2026-12-02"},
            "organizer": {"email": "amelie@orbit.example"},
            "attendees": [
                {"email": "jonas@orbit.example", "displayName": "Jonas", "responseStatus": "declined"},
                {"email": "mei@orbit.example", "responseStatus": "needsAction", "optional": True},
                {"displayName": "no email"},
            ],
            "conferenceData": {
                "entryPoints": [
                    {"entryPointType": "phone", "uri": "tel:+33"},
                    {"entryPointType": "video", "uri": "https://meet.google.com/a-b-c"},
                ]
            },
        },
    )
    assert event.status == EventStatus.TENTATIVE and event.organizer == "amelie@orbit.example"
    assert event.attendees == (
        Attendee(email="jonas@orbit.example", name="Jonas", response=ResponseStatus.DECLINED),
        Attendee(email="mei@orbit.example", response=ResponseStatus.NEEDS_ACTION, optional=True),
    )
    assert event.online_meeting_url == "https://meet.google.com/a-b-c"
    hangout = to_unified(
        CAL,
        {
            "id": "p2",
            "hangoutLink": "https://meet.google.com/x",
            "start": {"date": "2026-12-01"},
            "end": {"date": "2026-12-02"},
        },
    )
    assert hangout.online_meeting_url == "https://meet.google.com/x"


def test_an_event_without_times_is_skippable() -> None:
    with pytest.raises(SkippableRecord):
        to_unified(CAL, {"id": "x", "summary": "broken"})


def test_an_event_with_an_unmappable_attendee_is_skippable_not_a_failed_read() -> None:
    # The attendees are validated with the event: a bad one skips this event only.
    event = {
        "id": "bad-guest",
        "start": {"dateTime": "2026-12-04T10:00:00Z"},
        "end": {"dateTime": "2026-12-04T11:00:00Z"},
        "attendees": [{"email": "noah@orbit.example", "displayName": 42}],
    }
    with pytest.raises(SkippableRecord, match="bad-guest"):
        change_from_event(CAL, event, NOW)


def test_writes_carry_the_origin_marker_and_round_trip() -> None:
    paris = ZoneInfo("Europe/Paris")
    body = CalendarEvent(
        calendar=CAL,
        title="Hub meeting",
        description="d",
        start=datetime(2026, 12, 1, 10, tzinfo=paris),
        end=datetime(2026, 12, 1, 11, tzinfo=paris),
        location="Room",
        attendees=(Attendee(email="a@x", response=ResponseStatus.ACCEPTED),),
        ical_uid="uid@x",
        recurrence=("RRULE:FREQ=DAILY;COUNT=2",),
    )
    event = event_from_unified(body, "hub-7", for_insert=True)
    assert origin_of(event) == "hub-7" and event["extendedProperties"]["private"] == {ORIGIN_KEY: "hub-7"}
    assert event["start"] == {"dateTime": "2026-12-01T10:00:00+01:00", "timeZone": "Europe/Paris"}
    assert event["iCalUID"] == "uid@x"
    back = to_unified(CAL, {**event, "id": "r1"})
    assert back.model_dump(exclude={"organizer"}) == body.model_dump(exclude={"organizer"})


def test_a_patch_clears_emptied_fields_and_never_sends_an_ical_uid() -> None:
    body = CalendarEvent(calendar=CAL, title="t", start=NOW, end=NOW + timedelta(hours=1))
    patch = event_from_unified(body, "o", for_insert=False)
    assert patch["location"] is None and patch["description"] is None and "iCalUID" not in patch


def test_a_recurring_write_with_a_fixed_offset_is_sent_in_utc() -> None:
    start = datetime(2026, 12, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    body = CalendarEvent(
        calendar=CAL, title="t", start=start, end=start + timedelta(hours=1), recurrence=("RRULE:FREQ=DAILY",)
    )
    event = event_from_unified(body, "o", for_insert=True)
    assert event["start"] == {"dateTime": "2026-12-01T08:00:00+00:00", "timeZone": "UTC"}


def test_external_ids_split_on_the_last_slash() -> None:
    assert split_external_id("c_abc@group.calendar.google.com/ev1_20261201T090000Z") == (
        "c_abc@group.calendar.google.com",
        "ev1_20261201T090000Z",
    )
    with pytest.raises(ValueError):
        split_external_id("no-calendar")
