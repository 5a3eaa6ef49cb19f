"""events.watch channels: a bodiless POST per change with Google's X-Goog-* headers."""

from __future__ import annotations

from typing import Any

import httpx
from gcal_helpers import Receiver

from app.sandbox.common import ServedApp
from app.sandbox.google_calendar import GoogleCalendarSimulator


def _watch(service: Any, calendar: str, receiver: Receiver, channel_id: str = "chan-1", **extra: Any) -> Any:
    return (
        service.events()
        .watch(
            calendarId=calendar,
            body={
                "id": channel_id,
                "type": "web_hook",
                "address": receiver.url,
                "token": "target=hub",
                **extra,
            },
        )
        .execute()
    )


def test_watch_sends_sync_then_exists_with_increasing_numbers_and_no_body(
    service: Any, sim: GoogleCalendarSimulator, receiver: Receiver
) -> None:
    channel = _watch(service, sim.team_calendar, receiver)
    assert channel["id"] == "chan-1" and channel["resourceId"] and int(channel["expiration"]) > 0
    ((sync_headers, sync_body),) = receiver.wait_for(1)
    assert sync_body == b""
    assert sync_headers["x-goog-resource-state"] == "sync"
    assert sync_headers["x-goog-message-number"] == "1"
    sim.create_event(
        sim.team_calendar, {"summary": "push", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}}
    )
    deliveries = receiver.wait_for(2)
    headers, body = deliveries[1]
    assert body == b""
    assert headers["x-goog-channel-id"] == "chan-1"
    assert headers["x-goog-channel-token"] == "target=hub"
    assert headers["x-goog-resource-id"] == channel["resourceId"]
    assert headers["x-goog-resource-state"] == "exists"
    assert headers["x-goog-message-number"] == "2"
    assert headers["x-goog-resource-uri"].startswith("https://www.googleapis.com/calendar/v3/calendars/")
    assert headers["x-goog-channel-expiration"].endswith("GMT")
    assert headers["content-length"] == "0"


def test_changes_of_other_calendars_are_not_sent(
    service: Any, sim: GoogleCalendarSimulator, receiver: Receiver
) -> None:
    _watch(service, "primary", receiver)
    receiver.wait_for(1)
    sim.create_event(
        sim.team_calendar,
        {"summary": "elsewhere", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}},
    )
    sim.create_event(
        "primary", {"summary": "here", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}}
    )
    assert sim.webhooks.wait_idle(10)
    assert [h["x-goog-resource-state"] for h, _ in receiver.deliveries] == ["sync", "exists"]


def test_a_stopped_channel_sends_nothing(
    service: Any, sim: GoogleCalendarSimulator, receiver: Receiver
) -> None:
    channel = _watch(service, sim.team_calendar, receiver)
    service.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]}).execute()
    sim.create_event(
        sim.team_calendar,
        {"summary": "after stop", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}},
    )
    assert sim.webhooks.wait_idle(10)
    assert len(receiver.deliveries) == 1


def test_an_expired_channel_sends_nothing_and_closes(served: ServedApp, receiver: Receiver) -> None:
    now = [1_800_000_000.0]
    sim = GoogleCalendarSimulator(clock=lambda: now[0])
    from gcal_helpers import make_service

    from app.sandbox.common import serve_in_thread

    app = serve_in_thread(sim.app)
    try:
        _watch(make_service(app.url), sim.team_calendar, receiver, expiration=str(int((now[0] + 60) * 1000)))
        now[0] += 61
        sim.create_event(
            sim.team_calendar,
            {"summary": "late", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}},
        )
        assert sim.webhooks.wait_idle(10)
        assert len(receiver.deliveries) == 1
        assert httpx.get(f"{app.url}/_sandbox/channels").json()["channels"] == []
    finally:
        app.stop()


def test_a_duplicate_channel_id_is_refused(
    service: Any, sim: GoogleCalendarSimulator, receiver: Receiver
) -> None:
    from googleapiclient.errors import HttpError

    _watch(service, "primary", receiver)
    try:
        _watch(service, "primary", receiver)
    except HttpError as exc:
        assert exc.resp.status == 400
    else:
        raise AssertionError("a second channel with the same id was accepted")


def test_admin_routes_edit_move_and_cancel_instances_and_notify(
    served: ServedApp, service: Any, sim: GoogleCalendarSimulator, receiver: Receiver
) -> None:
    _watch(service, sim.team_calendar, receiver)
    receiver.wait_for(1)
    admin = f"{served.url}/_sandbox/events"
    created = httpx.post(
        admin,
        params={"calendar": sim.team_calendar},
        json={
            "summary": "Admin series",
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
            "start": {"dateTime": "2026-12-07T09:00:00", "timeZone": "Europe/Paris"},
            "end": {"dateTime": "2026-12-07T09:30:00", "timeZone": "Europe/Paris"},
        },
    ).json()
    second, third = f"{created['id']}_20261208T080000Z", f"{created['id']}_20261209T080000Z"
    moved = httpx.patch(
        f"{admin}/{sim.team_calendar}/{second}",
        json={
            "start": {"dateTime": "2026-12-08T14:00:00+01:00"},
            "end": {"dateTime": "2026-12-08T14:30:00+01:00"},
        },
    )
    assert moved.status_code == 200 and moved.json()["recurringEventId"] == created["id"]
    assert httpx.delete(f"{admin}/{sim.team_calendar}/{third}").status_code == 204
    states = [h["x-goog-resource-state"] for h, _ in receiver.wait_for(4)]
    assert states == ["sync", "exists", "exists", "exists"]
    assert sim.event(sim.team_calendar, third)["status"] == "cancelled"
    assert sim.event(sim.team_calendar, created["id"])["creator"]["email"] == sim.user_email
