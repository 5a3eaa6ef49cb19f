"""Requests and responses of the simulator follow the Calendar v3 discovery document."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
from gcal_discovery import Discovery
from gcal_helpers import make_service

from app.sandbox.common import ServedApp
from app.sandbox.google_calendar import SANDBOX_ACCESS_TOKEN, GoogleCalendarSimulator

AUTH = {"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}


def _call(
    client: httpx.Client,
    discovery: Discovery,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    spec = discovery.method_for(method, path)
    query = {
        k: [str(v).lower() if isinstance(v, bool) else str(v) for v in (vs if isinstance(vs, list) else [vs])]
        for k, vs in (params or {}).items()
    }
    assert discovery.check_params(spec.id, query) == []
    if body is not None and discovery.request_schema(spec.id):
        assert discovery.check_body(discovery.request_schema(spec.id) or "", body) == []
    response = client.request(method, path, params=query, json=body, headers=AUTH)
    assert response.status_code < 300, response.text
    schema = discovery.response_schema(spec.id)
    if schema and response.content:
        assert discovery.check_body(schema, response.json()) == [], spec.id
    return response


@pytest.mark.parametrize("prefix", ["", "/calendar/v3"])
def test_every_served_method_answers_in_the_discovery_schemas(
    served: ServedApp, sim: GoogleCalendarSimulator, discovery: Discovery, prefix: str
) -> None:
    cal = quote(sim.team_calendar)
    with httpx.Client(base_url=served.url) as client:
        _call(client, discovery, "GET", f"{prefix}/users/me/calendarList", params={"minAccessRole": "reader"})
        _call(client, discovery, "GET", f"{prefix}/users/me/calendarList/{cal}")
        _call(client, discovery, "GET", f"{prefix}/calendars/{cal}")
        full = _call(
            client,
            discovery,
            "GET",
            f"{prefix}/calendars/{cal}/events",
            params={"maxResults": 2500, "showDeleted": True},
        ).json()
        _call(
            client,
            discovery,
            "GET",
            f"{prefix}/calendars/{cal}/events",
            params={
                "singleEvents": True,
                "orderBy": "startTime",
                "timeMin": "2026-01-01T00:00:00Z",
                "timeMax": "2027-01-01T00:00:00+01:00",
                "q": "scrum",
            },
        )
        created = _call(
            client,
            discovery,
            "POST",
            f"{prefix}/calendars/{cal}/events",
            body={
                "summary": "Conformance",
                "start": {"dateTime": "2026-12-01T10:00:00+01:00"},
                "end": {"dateTime": "2026-12-01T11:00:00+01:00"},
                "extendedProperties": {"private": {"passerelle_origin": "x"}},
            },
        ).json()
        event = f"{prefix}/calendars/{cal}/events/{created['id']}"
        _call(client, discovery, "GET", event)
        _call(client, discovery, "PATCH", event, body={"summary": "Conformance 2"})
        _call(
            client,
            discovery,
            "PUT",
            event,
            body={"summary": "Conformance 3", "start": {"date": "2026-12-02"}, "end": {"date": "2026-12-03"}},
        )
        master = next(e for e in full["items"] if e.get("recurrence"))
        _call(
            client,
            discovery,
            "GET",
            f"{prefix}/calendars/{cal}/events/{master['id']}/instances",
            params={"maxResults": 3},
        )
        _call(
            client,
            discovery,
            "GET",
            f"{prefix}/calendars/{cal}/events",
            params={"syncToken": full["nextSyncToken"]},
        )
        channel = _call(
            client,
            discovery,
            "POST",
            f"{prefix}/calendars/{cal}/events/watch",
            body={"id": "conformance-channel", "type": "web_hook", "address": "http://127.0.0.1:9/hook"},
        ).json()
        _call(
            client,
            discovery,
            "POST",
            f"{prefix}/channels/stop",
            body={"id": channel["id"], "resourceId": channel["resourceId"]},
        )
        _call(client, discovery, "DELETE", event)


def test_errors_have_google_shape(
    served: ServedApp, sim: GoogleCalendarSimulator, discovery: Discovery
) -> None:
    with httpx.Client(base_url=served.url, headers=AUTH) as client:
        response = client.get(f"/calendars/{quote(sim.team_calendar)}/events/doesnotexist")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == 404 and error["status"] == "NOT_FOUND"
    assert error["errors"][0]["reason"] == "notFound"
    assert discovery.check_body("Error", {k: error["errors"][0][k] for k in ("domain", "reason")}) == []


def test_requests_a_googleapiclient_session_makes_are_valid_discovery_requests(
    served: ServedApp, sim: GoogleCalendarSimulator, discovery: Discovery
) -> None:
    service = make_service(served.url)
    events = service.events()
    page = events.list(calendarId=sim.team_calendar, maxResults=5, showDeleted=True).execute()
    events.list(calendarId=sim.team_calendar, pageToken=page["nextPageToken"], maxResults=5).execute()
    created = events.insert(
        calendarId="primary",
        body={"summary": "x", "start": {"date": "2026-12-24"}, "end": {"date": "2026-12-25"}},
    ).execute()
    events.patch(calendarId="primary", eventId=created["id"], body={"location": "home"}).execute()
    events.delete(calendarId="primary", eventId=created["id"]).execute()
    entries = sim.log.since(0)
    assert len(entries) == 5
    for entry in entries:
        method = discovery.method_for(entry.method, entry.path)
        assert discovery.check_params(method.id, parse_qs(entry.query)) == [], entry
