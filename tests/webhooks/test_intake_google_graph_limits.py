"""Google and Graph intake (channels, subscriptions), handshakes, the size limit, a store failure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.webhooks.intake import WebhookIntake
from webhooks.kit import (
    GOOGLE_TOKEN,
    GRAPH_STATE,
    hub_settings,
    running_app,
    sample,
    subscription,
)

GOOGLE = "/webhooks/google/calendar"
GRAPH = "/webhooks/microsoft/graph"
LIFECYCLE = "/webhooks/microsoft/graph/lifecycle"
SUB_ID = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"


def _google_headers(state: str = "exists", number: str = "10") -> dict[str, str]:
    headers = dict(
        sample("google/calendar_push_notifications.docs-example.json")["change_message"]["headers"]
    )
    headers["X-Goog-Channel-Token"] = GOOGLE_TOKEN
    headers["X-Goog-Resource-State"] = state
    headers["X-Goog-Message-Number"] = number
    del headers["Content-Length"]
    return headers


def _graph_body(client_state: str = GRAPH_STATE, sub_id: str = SUB_ID, lifecycle: bool = False) -> bytes:
    name = "lifecycle_notification" if lifecycle else "change_notification_collection"
    payload: dict[str, Any] = sample(f"msgraph/{name}.docs-example.json")
    for note in payload["value"]:
        note["subscriptionId"] = sub_id
        note["clientState"] = client_state
        if lifecycle:
            note["lifecycleEvent"] = "reauthorizationRequired"
    return json.dumps(payload).encode()


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(hub_settings(tmp_path)) as running:
        channel = sample("google/calendar_push_notifications.docs-example.json")["change_message"]["headers"]
        running.hub.db.put_subscription(
            subscription(
                "google",
                channel["X-Goog-Channel-ID"],
                "google",
                "primary",
                resource=channel["X-Goog-Resource-ID"],
            )
        )
        running.hub.db.put_subscription(subscription("graph", SUB_ID, "outlook", "AAMkCal"))
        yield running


async def test_a_google_notification_on_our_channel_is_stored_once(run: Any) -> None:
    for _ in range(3):
        answer = await run.client.post(GOOGLE, headers=_google_headers())
        assert answer.status_code == 200
    stored = run.hub.db.inbox_list()
    assert [(i.source, i.delivery_id, i.body) for i in stored] == [
        ("google", "4ba78bf0-6a47-11e2-bcfd-0800200c9a66:10", b"")
    ]


async def test_the_google_sync_message_is_acknowledged_and_not_stored(run: Any) -> None:
    answer = await run.client.post(GOOGLE, headers=_google_headers(state="sync", number="1"))
    assert answer.status_code == 200
    assert run.hub.db.inbox_list() == []


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unknown_channel", 403),
        ("other_resource", 403),
        ("wrong_token", 401),
        ("missing_token", 401),
        ("missing_channel", 400),
        ("missing_number", 400),
    ],
)
async def test_a_google_notification_we_cannot_trust_is_refused(run: Any, case: str, status: int) -> None:
    headers = _google_headers()
    match case:
        case "unknown_channel":
            headers["X-Goog-Channel-ID"] = "not-our-channel"
        case "other_resource":
            headers["X-Goog-Resource-ID"] = "another-resource"
        case "wrong_token":
            headers["X-Goog-Channel-Token"] = GOOGLE_TOKEN + "x"
        case "missing_token":
            del headers["X-Goog-Channel-Token"]
        case "missing_channel":
            del headers["X-Goog-Channel-ID"]
        case "missing_number":
            del headers["X-Goog-Message-Number"]
    answer = await run.client.post(GOOGLE, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]
    assert run.hub.db.inbox_list() == []


@pytest.mark.parametrize("route", [GRAPH, LIFECYCLE])
async def test_the_graph_validation_handshake_echoes_the_decoded_token(run: Any, route: str) -> None:
    token = "Validation: Testing client application reachability for subscription Request-Id: 1+2&3"
    answer = await run.client.post(
        route, params={"validationToken": token}, headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == token
    assert run.hub.db.inbox_list() == []


@pytest.mark.parametrize("copies", [1, 3])
async def test_a_graph_notification_of_our_subscription_is_stored_once(run: Any, copies: int) -> None:
    body = _graph_body()
    for _ in range(copies):
        answer = await run.client.post(GRAPH, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 202
    # Graph retries may re-serialise the JSON: the delivery id does not depend on formatting.
    again = json.dumps(json.loads(body), indent=2).encode()
    assert (await run.client.post(GRAPH, content=again)).json()["duplicate"] is True
    assert [i.source for i in run.hub.db.inbox_list()] == ["graph"]


async def test_a_graph_lifecycle_notification_is_stored_as_lifecycle(run: Any) -> None:
    answer = await run.client.post(LIFECYCLE, content=_graph_body(lifecycle=True))
    assert answer.status_code == 202
    assert [i.source for i in run.hub.db.inbox_list()] == ["graph-lifecycle"]


@pytest.mark.parametrize(
    ("case", "status"),
    [("wrong_client_state", 401), ("unknown_subscription", 403), ("not_json", 400), ("no_value", 400)],
)
async def test_a_graph_notification_we_cannot_trust_is_refused(run: Any, case: str, status: int) -> None:
    body = {
        "wrong_client_state": _graph_body(client_state="guess"),
        "unknown_subscription": _graph_body(sub_id="someone-elses"),
        "not_json": b"{not json",
        "no_value": b'{"value": []}',
    }[case]
    for route in (GRAPH, LIFECYCLE):
        answer = await run.client.post(route, content=body)
        assert answer.status_code == status, answer.text
    assert run.hub.db.inbox_list() == []


async def test_an_oversize_body_is_refused_by_its_declared_length(run: Any) -> None:
    body = b"x" * (64 * 1024 + 1)
    answer = await run.client.post("/webhooks/jira", content=body)
    assert answer.status_code == 413
    assert "65536" in answer.json()["detail"]
    assert run.hub.db.inbox_list() == []


async def test_an_oversize_chunked_body_is_refused_while_reading(run: Any) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 4096  # 80 KiB, no Content-Length

    answer = await run.client.post("/webhooks/slack/events", content=chunks())
    assert answer.status_code == 413
    assert run.hub.db.inbox_list() == []


class _InboxDown:
    """The real store, except that the inbox write fails (a full disk, a lost database)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def inbox_put(self, *args: Any) -> bool:
        raise OSError("database is unavailable")


async def test_a_delivery_that_cannot_be_stored_is_answered_5xx_so_the_vendor_retries(run: Any) -> None:
    run.webhooks.intake = WebhookIntake(_InboxDown(run.hub.db), run.webhooks.receivers)  # type: ignore[arg-type]
    answer = await run.client.post(GRAPH, content=_graph_body())
    assert answer.status_code == 503
    assert "retry" in answer.json()["detail"]
