"""events.list paging and sync tokens, driven through googleapiclient as a real client would."""

from __future__ import annotations

from typing import Any

import pytest
from gcal_helpers import make_service
from googleapiclient.errors import HttpError

from app.sandbox.common import ServedApp
from app.sandbox.google_calendar import GoogleCalendarSimulator


def _pages(service: Any, **params: Any) -> list[dict[str, Any]]:
    pages = []
    request = service.events().list(**params)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = service.events().list_next(request, page)
    return pages


def _new_event(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": "2026-12-10T10:00:00+01:00"},
        "end": {"dateTime": "2026-12-10T10:30:00+01:00"},
    }


def test_next_sync_token_comes_only_on_the_last_page(service: Any, sim: GoogleCalendarSimulator) -> None:
    pages = _pages(service, calendarId=sim.team_calendar, maxResults=4, showDeleted=True)
    assert len(pages) >= 3
    assert all("nextPageToken" in p and "nextSyncToken" not in p for p in pages[:-1])
    assert "nextSyncToken" in pages[-1] and "nextPageToken" not in pages[-1]
    ids = [e["id"] for p in pages for e in p["items"]]
    assert len(ids) == len(set(ids)) == len(sim.store.calendar(sim.team_calendar).events)


def test_both_url_forms_serve_the_same_listing(served: ServedApp, sim: GoogleCalendarSimulator) -> None:
    short = make_service(served.url).events().list(calendarId=sim.team_calendar).execute()
    full = make_service(f"{served.url}/calendar/v3/").events().list(calendarId=sim.team_calendar).execute()
    assert [e["id"] for e in short["items"]] == [e["id"] for e in full["items"]]
    paths = {entry.path for entry in sim.log.since(0)}
    assert paths == {
        f"/calendars/{sim.team_calendar}/events",
        f"/calendar/v3/calendars/{sim.team_calendar}/events",
    }


def test_page_size_defaults_to_250_and_is_capped_at_2500(sim: GoogleCalendarSimulator, service: Any) -> None:
    for n in range(260):
        sim.create_event("primary", _new_event(f"bulk {n}"))
    default = service.events().list(calendarId="primary").execute()
    assert len(default["items"]) == 250 and "nextPageToken" in default
    capped = service.events().list(calendarId="primary", maxResults=5000).execute()
    assert "nextPageToken" not in capped and len(capped["items"]) > 250


def test_a_sync_token_returns_edits_creations_and_minimal_cancelled_events(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    cal = sim.team_calendar
    token = _pages(service, calendarId=cal, showDeleted=True)[-1]["nextSyncToken"]
    items = service.events().list(calendarId=cal, syncToken=token).execute()
    assert items["items"] == [] and "nextSyncToken" in items
    one_off = next(
        e
        for e in sim.store.calendar(cal).events.values()
        if not e.resource.get("recurrence") and not e.is_exception and not e.cancelled
    )
    sim.edit_event(cal, one_off.id, {"summary": "Renamed"})
    added = sim.create_event(cal, _new_event("Added"))
    gone = sim.create_event(cal, _new_event("Short-lived"))
    sim.cancel_event(cal, gone["id"])
    changes = _pages(service, calendarId=cal, syncToken=token)
    by_id = {e["id"]: e for p in changes for e in p["items"]}
    assert by_id[one_off.id]["summary"] == "Renamed"
    assert by_id[added["id"]]["summary"] == "Added"
    assert by_id[gone["id"]] == {
        "kind": "calendar#event",
        "etag": by_id[gone["id"]]["etag"],
        "id": gone["id"],
        "status": "cancelled",
    }
    again = service.events().list(calendarId=cal, syncToken=changes[-1]["nextSyncToken"]).execute()
    assert again["items"] == []


def test_a_cancelled_instance_arrives_as_a_cancelled_exception_with_its_series(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    cal = sim.team_calendar
    token = _pages(service, calendarId=cal, showDeleted=True)[-1]["nextSyncToken"]
    master = next(
        e for e in sim.store.calendar(cal).events.values() if e.resource.get("summary") == "Daily scrum"
    )
    instance = (
        service.events().instances(calendarId=cal, eventId=master.id, maxResults=3).execute()["items"][2]
    )
    sim.cancel_event(cal, instance["id"])
    (item,) = service.events().list(calendarId=cal, syncToken=token).execute()["items"]
    assert item["id"] == instance["id"] and item["status"] == "cancelled"
    assert item["recurringEventId"] == master.id
    assert item["originalStartTime"] == instance["originalStartTime"]


@pytest.mark.parametrize(
    "name,value",
    [
        ("timeMin", "2026-01-01T00:00:00Z"),
        ("timeMax", "2026-01-01T00:00:00Z"),
        ("q", "scrum"),
        ("updatedMin", "2026-01-01T00:00:00Z"),
        ("iCalUID", "x@y"),
        ("orderBy", "updated"),
        ("privateExtendedProperty", "a=b"),
        ("sharedExtendedProperty", "a=b"),
    ],
)
def test_filters_are_refused_with_a_sync_token(
    service: Any, sim: GoogleCalendarSimulator, name: str, value: str
) -> None:
    token = _pages(service, calendarId="primary")[-1]["nextSyncToken"]
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", syncToken=token, **{name: value}).execute()
    assert caught.value.resp.status == 400


def test_an_expired_sync_token_answers_410_full_sync_required(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    token = _pages(service, calendarId=sim.team_calendar)[-1]["nextSyncToken"]
    other = _pages(service, calendarId="primary")[-1]["nextSyncToken"]
    sim.expire_sync_tokens(sim.team_calendar)
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId=sim.team_calendar, syncToken=token).execute()
    assert caught.value.resp.status == 410
    assert caught.value.error_details[0]["reason"] == "fullSyncRequired"
    assert service.events().list(calendarId="primary", syncToken=other).execute()["items"] == []
    with pytest.raises(HttpError) as foreign:
        service.events().list(calendarId=sim.team_calendar, syncToken=other).execute()
    assert foreign.value.resp.status == 410


def test_expire_sync_tokens_over_the_admin_route(
    served: ServedApp, service: Any, sim: GoogleCalendarSimulator
) -> None:
    import httpx

    token = _pages(service, calendarId="primary")[-1]["nextSyncToken"]
    httpx.post(
        f"{served.url}/_sandbox/expire-sync-tokens", params={"calendar": sim.user_email}
    ).raise_for_status()
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", syncToken=token).execute()
    assert caught.value.resp.status == 410


def test_an_event_changed_while_paging_is_read_again_not_skipped(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    cal = sim.team_calendar
    first = service.events().list(calendarId=cal, maxResults=3).execute()
    early = first["items"][0]["id"]
    sim.edit_event(cal, early, {"summary": "Edited mid-listing"})
    rest = _pages(service, calendarId=cal, maxResults=3, pageToken=first["nextPageToken"])
    seen = {e["id"]: e for p in rest for e in p["items"]}
    assert seen[early]["summary"] == "Edited mid-listing"


def test_single_events_expands_series_with_instance_ids_and_ordering(
    service: Any, sim: GoogleCalendarSimulator
) -> None:
    items = (
        service.events()
        .list(
            calendarId=sim.team_calendar,
            singleEvents=True,
            orderBy="startTime",
            timeMin="2026-11-01T00:00:00Z",
            timeMax="2026-12-01T00:00:00Z",
            maxResults=2500,
        )
        .execute()["items"]
    )
    starts = [e["start"].get("dateTime") or e["start"]["date"] for e in items]
    assert starts == sorted(starts, key=lambda s: s if "T" in s else s + "T00:00:00+01:00")
    instances = [e for e in items if "recurringEventId" in e]
    assert instances and all(
        e["id"] == f"{e['recurringEventId']}_" + e["id"].rsplit("_", 1)[1] for e in instances
    )
    assert all("recurrence" not in e and "originalStartTime" in e for e in instances)


def test_order_by_start_time_needs_single_events(service: Any, sim: GoogleCalendarSimulator) -> None:
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId=sim.team_calendar, orderBy="startTime").execute()
    assert caught.value.resp.status == 400


def test_updated_min_includes_deleted_events(service: Any, sim: GoogleCalendarSimulator) -> None:
    gone = sim.create_event("primary", _new_event("gone"))
    sim.cancel_event("primary", gone["id"])
    updated = sim.event("primary", gone["id"])
    assert updated["status"] == "cancelled"
    since = service.events().list(calendarId="primary", updatedMin="2000-01-01T00:00:00Z").execute()["items"]
    assert gone["id"] in {e["id"] for e in since}
    plain = service.events().list(calendarId="primary").execute()["items"]
    assert gone["id"] not in {e["id"] for e in plain}


def test_a_page_costs_its_size_not_the_calendar_size(
    sim: GoogleCalendarSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.datastructures import QueryParams

    from app.sandbox.google_calendar.listing import list_events
    from app.sandbox.google_calendar.model import CalendarData
    from app.sandbox.google_calendar.params import parse_list_params

    for n in range(3000):
        sim.create_event("primary", _new_event(f"bulk {n}"))
    inspected = []
    original = CalendarData.live_entry

    def counting(self: CalendarData, index: int) -> Any:
        inspected.append(index)
        return original(self, index)

    monkeypatch.setattr(CalendarData, "live_entry", counting)
    cal = sim.store.calendar("primary")
    first = list_events(
        cal, parse_list_params(QueryParams({"maxResults": "10"})), sim.store.seq, sim.store.now()
    )
    second = list_events(
        cal,
        parse_list_params(QueryParams({"maxResults": "10", "pageToken": first["nextPageToken"]})),
        sim.store.seq,
        sim.store.now(),
    )
    assert len(first["items"]) == len(second["items"]) == 10
    assert len(inspected) == 20
