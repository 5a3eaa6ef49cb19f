"""Subscriptions in the Graph sandbox: the validation handshake, notifications, lifecycle events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from graph_fixtures import Receiver
from graph_spec import validate_exchange

from app.sandbox.graph import GraphSimulator


def subscription(receiver: Receiver, **extra: Any) -> dict[str, Any]:
    return {
        "changeType": "created,updated,deleted",
        "notificationUrl": f"{receiver.url}/notify",
        "lifecycleNotificationUrl": f"{receiver.url}/lifecycle",
        "resource": "me/events",
        "expirationDateTime": (datetime.now(UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z"),
        "clientState": "s3cret-state",
        **extra,
    }


def test_creation_echoes_the_decoded_validation_token(
    graph: httpx.Client, me_id: str, receiver: Receiver
) -> None:
    response = graph.post("/v1.0/subscriptions", json=subscription(receiver))
    assert response.status_code == 201, response.text
    validate_exchange(response, me_id)
    assert len(receiver.handshakes) == 2  # notification URL and lifecycle URL
    assert receiver.handshakes[0].startswith("Validation: Testing client application reachability")
    assert receiver.handshakes[0] == unquote(receiver.handshakes[0])
    listed = graph.get("/v1.0/subscriptions")
    validate_exchange(listed, me_id)
    assert [s["id"] for s in listed.json()["value"]] == [response.json()["id"]]


@pytest.mark.parametrize("mode", ["wrong", "status500", "html"])
def test_a_failed_handshake_creates_no_subscription(
    mode: str, sim: GraphSimulator, graph: httpx.Client, receiver: Receiver
) -> None:
    receiver.mode = mode
    response = graph.post("/v1.0/subscriptions", json=subscription(receiver))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationError"
    assert sim.subscriptions.subscriptions == {}


def test_an_unreachable_endpoint_fails_validation(graph: httpx.Client) -> None:
    response = graph.post("/v1.0/subscriptions", json=subscription(Receiver(url="http://127.0.0.1:9")))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationError"


def test_expiration_beyond_the_outlook_maximum_is_refused(graph: httpx.Client, receiver: Receiver) -> None:
    late = (datetime.now(UTC) + timedelta(days=8)).isoformat().replace("+00:00", "Z")
    response = graph.post("/v1.0/subscriptions", json=subscription(receiver, expirationDateTime=late))
    assert response.status_code == 400
    assert "10080 minutes" in response.json()["error"]["message"]


def test_changes_are_notified_with_the_client_state(
    sim: GraphSimulator, graph: httpx.Client, receiver: Receiver
) -> None:
    sub = graph.post("/v1.0/subscriptions", json=subscription(receiver)).json()
    event = next(e for e in sim.events_of("po") if not e.is_series)
    sim.update_event(event.id, {"subject": "Moved to Thursday"})
    sim.delete_event(event.id)
    deliveries = receiver.wait(2)
    notes = [n for d in deliveries for n in d["value"]]
    assert [n["changeType"] for n in notes] == ["updated", "deleted"]
    for note in notes:
        assert note["subscriptionId"] == sub["id"]
        assert note["clientState"] == "s3cret-state"
        assert note["resourceData"]["id"] == event.id
        assert note["resourceData"]["@odata.type"] == "#Microsoft.Graph.Event"
        assert note["tenantId"] == sim.tenant_id


def test_a_calendar_subscription_ignores_other_calendars(
    sim: GraphSimulator, graph: httpx.Client, receiver: Receiver
) -> None:
    releases = next(c for c in sim.calendars("po") if not c.is_default)
    graph.post(
        "/v1.0/subscriptions", json=subscription(receiver, resource=f"me/calendars/{releases.id}/events")
    )
    other = next(e for e in sim.events_of("po") if not e.is_series)
    sim.update_event(other.id, {"subject": "not in releases"})
    mine = sim.events_of("po", releases.id)[0]
    sim.update_event(mine.id, {"subject": "Release slipped"})
    deliveries = receiver.wait(1)
    sim.webhooks.wait_idle(5)
    assert [n["resourceData"]["id"] for d in deliveries for n in d["value"]] == [mine.id]


def test_renewal_and_deletion(graph: httpx.Client, me_id: str, receiver: Receiver) -> None:
    sub = graph.post("/v1.0/subscriptions", json=subscription(receiver)).json()
    later = (datetime.now(UTC) + timedelta(days=6)).isoformat().replace("+00:00", "Z")
    renewed = graph.patch(f"/v1.0/subscriptions/{sub['id']}", json={"expirationDateTime": later})
    # The 2022 slice says PATCH answers 204; Graph answers 200 with the subscription.
    validate_exchange(renewed, me_id, response_too=False)
    assert renewed.json()["expirationDateTime"][:16] == later[:16]
    assert graph.delete(f"/v1.0/subscriptions/{sub['id']}").status_code == 204
    assert graph.get(f"/v1.0/subscriptions/{sub['id']}").status_code == 404


def test_lifecycle_events_reach_the_lifecycle_url(
    sim: GraphSimulator, graph: httpx.Client, served: Any, receiver: Receiver
) -> None:
    sub = graph.post("/v1.0/subscriptions", json=subscription(receiver)).json()
    answer = httpx.post(
        f"{served.url}/_sandbox/graph/subscriptions/{sub['id']}/lifecycle", json={"lifecycleEvent": "missed"}
    )
    assert answer.status_code == 200
    sim.send_lifecycle(sub["id"], "subscriptionRemoved")
    notes = [n for d in receiver.wait(2) for n in d["value"]]
    assert [n["lifecycleEvent"] for n in notes] == ["missed", "subscriptionRemoved"]
    assert all(n["clientState"] == "s3cret-state" for n in notes)
    assert sub["id"] not in sim.subscriptions.subscriptions
