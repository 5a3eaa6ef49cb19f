"""Event CRUD in the Graph sandbox: changeKey/If-Match, transactionId, extended properties."""

from __future__ import annotations

from typing import Any

import httpx
from graph_spec import validate_exchange

from app.sandbox.graph import GraphSimulator

ORIGIN_PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name passerelleOrigin"


def new_event(**extra: Any) -> dict[str, Any]:
    return {
        "subject": "Pairing on checkout",
        "body": {"contentType": "html", "content": "<p>CHK-12</p>"},
        "start": {"dateTime": "2026-12-03T10:00:00", "timeZone": "Romance Standard Time"},
        "end": {"dateTime": "2026-12-03T11:00:00", "timeZone": "Romance Standard Time"},
        "location": {"displayName": "Room Ada"},
        "attendees": [
            {"emailAddress": {"address": "jonas@orbit.example", "name": "Jonas Becker"}, "type": "required"}
        ],
        **extra,
    }


def test_users_and_calendars_are_listed(graph: httpx.Client, me_id: str) -> None:
    me = graph.get("/v1.0/me").json()
    assert me["id"] == me_id and me["userPrincipalName"] == "amelie@orbit.example"
    response = graph.get("/v1.0/me/calendars")
    validate_exchange(response, me_id)
    names = {c["name"]: c for c in response.json()["value"]}
    assert names["Calendar"]["isDefaultCalendar"] is True
    assert (
        graph.get("/v1.0/users/jonas@orbit.example/calendars").json()["value"][0]["owner"]["address"]
        == "jonas@orbit.example"
    )


def test_create_get_update_delete_round_trip(graph: httpx.Client, me_id: str) -> None:
    created = graph.post("/v1.0/me/events", json=new_event())
    assert created.status_code == 201
    validate_exchange(created, me_id)
    event = created.json()
    assert event["start"] == {"dateTime": "2026-12-03T09:00:00.0000000", "timeZone": "UTC"}
    assert event["originalStartTimeZone"] == "Romance Standard Time"
    fetched = graph.get(f"/v1.0/me/events/{event['id']}")
    validate_exchange(fetched, me_id)
    assert fetched.json()["changeKey"] == event["changeKey"]
    patched = graph.patch(
        f"/v1.0/me/events/{event['id']}",
        json={"subject": "Pairing (moved)"},
        headers={"If-Match": event["@odata.etag"]},
    )
    assert patched.status_code == 200
    # The 2022 slice says PATCH answers 204; Graph answers 200 with the event: check the request only.
    validate_exchange(patched, me_id, response_too=False)
    assert patched.json()["changeKey"] != event["changeKey"]
    deleted = graph.delete(f"/v1.0/me/events/{event['id']}")
    assert deleted.status_code == 204
    validate_exchange(deleted, me_id)
    gone = graph.get(f"/v1.0/me/events/{event['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "ErrorItemNotFound"
    validate_exchange(gone, me_id)


def test_a_stale_change_key_is_refused_with_412(graph: httpx.Client, me_id: str) -> None:
    event = graph.post("/v1.0/me/events", json=new_event()).json()
    graph.patch(f"/v1.0/me/events/{event['id']}", json={"subject": "first edit"})
    stale = graph.patch(
        f"/v1.0/me/events/{event['id']}",
        json={"subject": "second edit"},
        headers={"If-Match": event["@odata.etag"]},
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "ErrorIrresolvableConflict"
    refused_delete = graph.delete(f"/v1.0/me/events/{event['id']}", headers={"If-Match": event["changeKey"]})
    assert refused_delete.status_code == 412
    assert graph.get(f"/v1.0/me/events/{event['id']}").json()["subject"] == "first edit"


def test_the_same_transaction_id_creates_one_event(sim: GraphSimulator, graph: httpx.Client) -> None:
    before = len(sim.events_of("po"))
    first = graph.post("/v1.0/me/events", json=new_event(transactionId="hub-7f3a"))
    retry = graph.post("/v1.0/me/events", json=new_event(transactionId="hub-7f3a"))
    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert len(sim.events_of("po")) == before + 1


def test_an_extended_property_is_returned_only_when_expanded(graph: httpx.Client, me_id: str) -> None:
    event = graph.post(
        "/v1.0/me/events",
        json=new_event(singleValueExtendedProperties=[{"id": ORIGIN_PROP, "value": "passerelle:outlook"}]),
    ).json()
    plain = graph.get(f"/v1.0/me/events/{event['id']}").json()
    assert "singleValueExtendedProperties" not in plain
    expanded = graph.get(
        f"/v1.0/me/events/{event['id']}",
        params={"$expand": f"singleValueExtendedProperties($filter=id eq '{ORIGIN_PROP}')"},
    )
    validate_exchange(expanded, me_id)
    assert expanded.json()["singleValueExtendedProperties"] == [
        {"id": ORIGIN_PROP, "value": "passerelle:outlook"}
    ]


def test_an_occurrence_can_be_read_edited_and_cancelled(
    sim: GraphSimulator, graph: httpx.Client, me_id: str
) -> None:
    scrum = next(e for e in sim.events_of("po") if e.subject == "Daily scrum")
    window = {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2030-01-01T00:00:00Z", "$top": "500"}
    view = graph.get("/v1.0/me/calendarView", params=window)
    validate_exchange(view, me_id)
    occurrence = next(i for i in view.json()["value"] if i.get("seriesMasterId") == scrum.id)
    edited = graph.patch(f"/v1.0/me/events/{occurrence['id']}", json={"subject": "Scrum (demo day)"})
    assert edited.json()["type"] == "exception"
    assert graph.delete(f"/v1.0/me/events/{occurrence['id']}").status_code == 204
    assert graph.get(f"/v1.0/me/events/{occurrence['id']}").status_code == 404


def test_listing_events_pages_with_top_and_skip(graph: httpx.Client, me_id: str) -> None:
    first = graph.get("/v1.0/me/events", params={"$top": "5"})
    validate_exchange(first, me_id)
    assert len(first.json()["value"]) == 5
    second = graph.get(first.json()["@odata.nextLink"])
    assert {e["id"] for e in second.json()["value"]}.isdisjoint({e["id"] for e in first.json()["value"]})


def test_bad_input_is_a_400_in_graph_error_shape(graph: httpx.Client, me_id: str) -> None:
    response = graph.post("/v1.0/me/events", json={"subject": "no times"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] and error["message"] and error["innerError"]["request-id"]
    validate_exchange(response, me_id, response_too=False)
    bad_zone = graph.post(
        "/v1.0/me/events",
        json=new_event(start={"dateTime": "2026-12-03T10:00:00", "timeZone": "Mars/Olympus"}),
    )
    assert bad_zone.status_code == 400


def test_an_unknown_path_names_itself(graph: httpx.Client) -> None:
    response = graph.get("/v1.0/me/mailFolders")
    assert response.status_code == 404
    assert "/v1.0/me/mailFolders" in response.json()["error"]["message"]
