"""Graph notifications for the Outlook connector: handshake, clientState, unknown subscriptions, hints."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from outlook_helpers import CLIENT_STATE
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.connectors.base import WebhookHint
from app.connectors.outlook import OutlookConnector
from app.errors import WebhookRejected
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.graph import GraphSimulator


def notification(sub_id: str, client_state: str, change: str = "updated") -> bytes:
    return json.dumps(
        {
            "value": [
                {
                    "subscriptionId": sub_id,
                    "clientState": client_state,
                    "changeType": change,
                    "resource": "Users/u/Events/AAMk-1",
                    "tenantId": "t",
                    "resourceData": {
                        "@odata.type": "#Microsoft.Graph.Event",
                        "@odata.id": "Users/u/Events/AAMk-1",
                        "@odata.etag": 'W/"ck1"',
                        "id": "AAMk-1",
                    },
                }
            ]
        }
    ).encode()


async def test_the_handshake_is_answered_with_the_decoded_token(connector: OutlookConnector) -> None:
    token = "Validation: Testing client application reachability for subscription Request-Id: 42"
    connector.verify({"validationtoken": token}, b"")
    [hint] = connector.parse({"validationtoken": token}, b"")
    assert hint.answer == token
    assert connector.handshake_answer({"validationToken": token}) == token
    assert connector.handshake_answer({}) is None


async def test_a_wrong_client_state_is_rejected(connector: OutlookConnector, calendar: str) -> None:
    connector.remember_subscription("sub-1", calendar)
    with pytest.raises(WebhookRejected) as rejected:
        connector.verify({}, notification("sub-1", "guessed-state"))
    assert rejected.value.status_code == 401
    connector.verify({}, notification("sub-1", CLIENT_STATE))


async def test_an_unknown_subscription_is_rejected_with_403(connector: OutlookConnector) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        connector.verify({}, notification("not-ours", CLIENT_STATE))
    assert rejected.value.status_code == 403


async def test_a_body_that_is_not_a_notification_collection_is_rejected(connector: OutlookConnector) -> None:
    for body in (b"not json", b'{"value": 3}'):
        with pytest.raises(WebhookRejected):
            connector.verify({}, body)


async def test_lifecycle_missed_asks_for_a_resync_and_reauthorization_is_recorded(
    connector: OutlookConnector, calendar: str
) -> None:
    connector.remember_subscription("sub-2", calendar)
    missed = json.dumps(
        {"value": [{"subscriptionId": "sub-2", "clientState": CLIENT_STATE, "lifecycleEvent": "missed"}]}
    ).encode()
    reauth = json.dumps(
        {
            "value": [
                {
                    "subscriptionId": "sub-2",
                    "clientState": CLIENT_STATE,
                    "lifecycleEvent": "reauthorizationRequired",
                }
            ]
        }
    ).encode()
    [hint] = connector.parse({}, missed)
    assert (hint.partition, hint.external_ids) == (calendar, ())
    assert connector.parse({}, reauth) == []
    assert connector.subscriptions.get("sub-2").needs == frozenset({"reauthorizationRequired"})  # type: ignore[union-attr]


class HubReceiver:
    """A stand-in for the hub's webhook route: answers handshakes, verifies, parses."""

    def __init__(self, connector: OutlookConnector) -> None:
        self.connector = connector
        self.hints: list[WebhookHint] = []

    async def handle(self, request: Request) -> Response:
        answer = self.connector.handshake_answer(request.query_params)
        if answer is not None:
            return PlainTextResponse(answer)
        body = await request.body()
        try:
            self.connector.verify(dict(request.headers), body)
        except WebhookRejected as exc:
            return Response(status_code=exc.status_code)
        self.hints.extend(self.connector.parse(dict(request.headers), body))
        return Response(status_code=202)


@pytest.fixture
def hub(connector: OutlookConnector) -> Iterator[tuple[HubReceiver, ServedApp]]:
    receiver = HubReceiver(connector)
    served = serve_in_thread(Starlette(routes=[Route("/hooks/outlook", receiver.handle, methods=["POST"])]))
    yield receiver, served
    served.stop()


async def test_subscribing_then_a_change_in_outlook_asks_to_sync_that_calendar(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str, hub: tuple[HubReceiver, ServedApp]
) -> None:
    receiver, served = hub
    sub = await connector.subscribe(calendar, f"{served.url}/hooks/outlook", f"{served.url}/hooks/outlook")
    assert sub.id in sim.subscriptions.subscriptions
    event: Any = next(e for e in sim.events_of("po", calendar) if not e.is_series)
    sim.update_event(event.id, {"subject": "Moved by Priya"})
    for _ in range(100):
        if receiver.hints:
            break
        await asyncio.sleep(0.05)
    assert [(h.partition, h.stream) for h in receiver.hints] == [(calendar, "events")]
    await connector.renew_subscription(sub.id)
    await connector.unsubscribe(sub.id)
    assert sim.subscriptions.subscriptions == {}
