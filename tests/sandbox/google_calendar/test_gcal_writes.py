"""insert / patch / update / delete with etags, iCalUIDs, extended properties and series exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from app.sandbox.google_calendar import GoogleCalendarSimulator


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "summary": "Write test",
        "start": {"dateTime": "2026-12-03T15:00:00+01:00"},
        "end": {"dateTime": "2026-12-03T16:00:00+01:00"},
        **extra,
    }


def _status(call: Any) -> int:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return int(caught.value.resp.status)


def test_patch_with_a_stale_etag_is_refused_with_412(service: Any, sim: GoogleCalendarSimulator) -> None:
    cal = sim.team_calendar
    created = service.events().insert(calendarId=cal, body=_body()).execute()
    patched = service.events().patch(calendarId=cal, eventId=created["id"], body={"summary": "v2"})
    patched.headers["If-Match"] = created["etag"]
    current = patched.execute()
    assert current["etag"] != created["etag"] and current["summary"] == "v2"
    stale = service.events().patch(calendarId=cal, eventId=created["id"], body={"summary": "v3"})
    stale.headers["If-Match"] = created["etag"]
    assert _status(stale) == 412
    stale_delete = service.events().delete(calendarId=cal, eventId=created["id"])
    stale_delete.headers["If-Match"] = created["etag"]
    assert _status(stale_delete) == 412
    delete = service.events().delete(calendarId=cal, eventId=created["id"])
    delete.headers["If-Match"] = current["etag"]
    delete.execute()
    assert sim.event(cal, created["id"])["status"] == "cancelled"
    assert _status(service.events().delete(calendarId=cal, eventId=created["id"])) == 410


def test_insert_keeps_a_given_ical_uid_and_refuses_a_duplicate(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    created = (
        service.events()
        .insert(calendarId="primary", body=_body(iCalUID="shared-123@orbit.example"))
        .execute()
    )
    assert created["iCalUID"] == "shared-123@orbit.example"
    assert (
        _status(service.events().insert(calendarId="primary", body=_body(iCalUID="shared-123@orbit.example")))
        == 409
    )
    generated = service.events().insert(calendarId="primary", body=_body()).execute()
    assert generated["iCalUID"] == f"{generated['id']}@google.com"


def test_private_extended_properties_are_stored_and_filterable(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    marked = (
        service.events()
        .insert(
            calendarId="primary", body=_body(extendedProperties={"private": {"passerelle_origin": "hub-1"}})
        )
        .execute()
    )
    service.events().insert(calendarId="primary", body=_body()).execute()
    found = (
        service.events()
        .list(calendarId="primary", privateExtendedProperty="passerelle_origin=hub-1")
        .execute()["items"]
    )
    assert [e["id"] for e in found] == [marked["id"]]
    patched = (
        service.events()
        .patch(
            calendarId="primary",
            eventId=marked["id"],
            body={"extendedProperties": {"private": {"other": "x"}}},
        )
        .execute()
    )
    assert patched["extendedProperties"]["private"] == {"passerelle_origin": "hub-1", "other": "x"}


def test_update_replaces_the_event_and_keeps_identity(service: Any, sim: GoogleCalendarSimulator) -> None:
    created = service.events().insert(calendarId="primary", body=_body(location="Room 1")).execute()
    updated = (
        service.events()
        .update(
            calendarId="primary",
            eventId=created["id"],
            body={"summary": "Now all day", "start": {"date": "2026-12-04"}, "end": {"date": "2026-12-05"}},
        )
        .execute()
    )
    assert "location" not in updated
    assert (updated["id"], updated["iCalUID"], updated["created"]) == (
        created["id"],
        created["iCalUID"],
        created["created"],
    )


@pytest.mark.parametrize(
    "body",
    [
        {"summary": "no times"},
        {"start": {"date": "2026-12-04"}, "end": {"dateTime": "2026-12-05T10:00:00Z"}},
        {"start": {"dateTime": "2026-12-05T10:00:00Z"}, "end": {"dateTime": "2026-12-05T09:00:00Z"}},
        {
            "start": {"dateTime": "2026-12-05T10:00:00Z"},
            "end": {"dateTime": "2026-12-05T11:00:00Z"},
            "recurrence": ["RRULE:FREQ=WEEKLY"],
        },
        {
            "start": {"dateTime": "2026-12-05T10:00:00", "timeZone": "Europe/Paris"},
            "end": {"dateTime": "2026-12-05T11:00:00", "timeZone": "Europe/Paris"},
            "recurrence": ["RRULE:FREQ=MONTHLY"],
        },
    ],
)
def test_invalid_events_are_refused_with_400(service: Any, body: dict[str, Any]) -> None:
    assert _status(service.events().insert(calendarId="primary", body=body)) == 400


def test_a_colleagues_calendar_is_read_only(service: Any, sim: GoogleCalendarSimulator) -> None:
    colleague = sim.world.member("dev1").email
    assert service.events().list(calendarId=colleague).execute()["accessRole"] == "reader"
    assert _status(service.events().insert(calendarId=colleague, body=_body())) == 403


def test_patching_an_instance_creates_an_exception_with_the_instance_id(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    series = (
        service.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "Series",
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
                "start": {"dateTime": "2026-12-07T09:00:00", "timeZone": "Europe/Paris"},
                "end": {"dateTime": "2026-12-07T09:30:00", "timeZone": "Europe/Paris"},
            },
        )
        .execute()
    )
    instances = service.events().instances(calendarId="primary", eventId=series["id"]).execute()["items"]
    assert [i["id"] for i in instances] == [f"{series['id']}_2026120{d}T080000Z" for d in range(7, 10)] + [
        f"{series['id']}_2026121{d}T080000Z" for d in range(0, 2)
    ]
    moved = (
        service.events()
        .patch(
            calendarId="primary",
            eventId=instances[1]["id"],
            body={
                "start": {"dateTime": "2026-12-08T11:00:00+01:00"},
                "end": {"dateTime": "2026-12-08T11:30:00+01:00"},
            },
        )
        .execute()
    )
    assert moved["id"] == instances[1]["id"] and moved["recurringEventId"] == series["id"]
    assert moved["originalStartTime"]["dateTime"] == "2026-12-08T09:00:00+01:00"
    service.events().delete(calendarId="primary", eventId=instances[2]["id"]).execute()
    listed = service.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    exceptions = {e["id"]: e for e in listed if e.get("recurringEventId") == series["id"]}
    assert exceptions[instances[1]["id"]]["start"]["dateTime"] == "2026-12-08T11:00:00+01:00"
    assert exceptions[instances[2]["id"]]["status"] == "cancelled"
    expanded = (
        service.events()
        .list(
            calendarId="primary",
            singleEvents=True,
            timeMin="2026-12-07T00:00:00Z",
            timeMax="2026-12-31T00:00:00Z",
        )
        .execute()
    )
    series_items = [i for i in expanded["items"] if i.get("recurringEventId") == series["id"]]
    assert len(series_items) == 4
    assert (
        _status(service.events().get(calendarId="primary", eventId=f"{series['id']}_20261207T090000Z")) == 404
    )


def test_get_answers_304_for_a_matching_if_none_match(service: Any, sim: GoogleCalendarSimulator) -> None:
    created = service.events().insert(calendarId="primary", body=_body()).execute()
    request = service.events().get(calendarId="primary", eventId=created["id"])
    request.headers["If-None-Match"] = created["etag"]
    assert _status(request) == 304
