"""Webhook deliveries: events, HMAC signature, stable identifier across retries, REST expiry."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.jira import JiraSimulator


@dataclass
class Receiver:
    """A webhook endpoint that records deliveries and answers the queued statuses, then 200."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        self.received.append(({k.lower(): v for k, v in request.headers.items()}, await request.body()))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    app = Starlette(routes=[Route("/hook", recv.handle, methods=["POST"])])
    served: ServedApp = serve_in_thread(app)
    recv.url = f"{served.url}/hook"
    try:
        yield recv
    finally:
        served.stop()


ALL_EVENTS = [
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
]


def test_mutations_deliver_their_events_signed_with_the_secret(
    sim: JiraSimulator, receiver: Receiver
) -> None:
    sim.register_webhook(receiver.url, ALL_EVENTS, secret="s3cret")
    issue = sim.create_issue("CHK", {"summary": "Hooked", "issuetype": "Task"})
    sim.edit_issue(issue.key, summary="Hooked, edited")
    comment = sim.add_comment(issue.key, "first")
    sim.edit_comment(issue.key, comment.id, "first, edited")
    sim.delete_comment(issue.key, comment.id)
    sim.delete_issue(issue.key)
    assert sim.webhooks.wait_idle(10)
    assert [e["webhookEvent"] for e in receiver.events()] == ALL_EVENTS[:2] + ALL_EVENTS[3:] + ALL_EVENTS[2:3]
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-hub-signature"], expected)
    updated = receiver.events()[1]
    assert updated["issue"]["id"] == str(issue.id)
    assert updated["issue"]["fields"]["summary"] == "Hooked, edited"
    assert updated["changelog"]["items"][0]["field"] == "summary"
    assert isinstance(updated["issue"]["fields"]["description"], (str, type(None))), "webhooks carry v2 JSON"


def test_a_failed_delivery_is_retried_with_the_same_identifier(
    sim: JiraSimulator, receiver: Receiver
) -> None:
    sim.register_webhook(receiver.url, ["jira:issue_updated"], secret="k")
    receiver.statuses = [503, 429]
    sim.edit_issue("CHK-2", summary="Retry me")
    assert sim.webhooks.wait_idle(10)
    identifiers = {h["x-atlassian-webhook-identifier"] for h, _ in receiver.received}
    assert len(receiver.received) == 3
    assert len(identifiers) == 1
    assert len({body for _, body in receiver.received}) == 1


def test_a_client_error_is_not_retried(sim: JiraSimulator, receiver: Receiver) -> None:
    sim.register_webhook(receiver.url, ["jira:issue_updated"])
    receiver.statuses = [400]
    sim.edit_issue("CHK-2", summary="Refused")
    assert sim.webhooks.wait_idle(10)
    assert len(receiver.received) == 1
    assert "x-hub-signature" not in receiver.received[0][0], "no secret, no signature"


def test_a_jql_filter_limits_the_issues_a_hook_hears_about(sim: JiraSimulator, receiver: Receiver) -> None:
    sim.register_webhook(receiver.url, ["jira:issue_updated"], jql_filter="issuetype = Bug")
    bug = next(i for i in sim.store.issues.values() if i.fields["issuetype"] == "Bug")
    epic = sim.store.find("CHK-1")
    assert epic is not None
    sim.edit_issue(epic.key, summary="Not a bug")
    sim.edit_issue(bug.key, summary="A bug")
    assert sim.webhooks.wait_idle(10)
    assert [e["issue"]["key"] for e in receiver.events()] == [bug.key]


def test_admin_route_registers_a_signed_webhook_and_mutates_as_a_user(
    sim: JiraSimulator, served: ServedApp, receiver: Receiver
) -> None:
    with httpx.Client(base_url=served.url) as admin:
        created = admin.post(
            "/_sandbox/webhooks",
            json={"url": receiver.url, "events": ["jira:issue_updated"], "secret": "abc"},
        )
        assert created.status_code == 201
        assert admin.post("/_sandbox/issues/CHK-4/transition", json={"status": "Done"}).status_code == 200
    assert sim.webhooks.wait_idle(10)
    ((headers, body),) = receiver.received
    assert headers["x-hub-signature"] == "sha256=" + hmac.new(b"abc", body, hashlib.sha256).hexdigest()
    assert json.loads(body)["issue"]["fields"]["status"]["name"] == "Done"


def test_rest_webhooks_expire_after_30_days_unless_refreshed(http: httpx.Client, sim: JiraSimulator) -> None:
    created = http.post(
        "/rest/api/3/webhook",
        json={
            "url": "https://hub.example/jira",
            "webhooks": [{"events": ["jira:issue_updated"], "jqlFilter": "project = CHK"}],
        },
    ).json()
    hook_id = created["webhookRegistrationResult"][0]["createdWebhookId"]
    listed = http.get("/rest/api/3/webhook").json()["values"][0]
    days = (listed["expirationDate"] - sim.store.last_ms) / 86_400_000
    assert 29.9 < days <= 30
    refreshed = http.put("/rest/api/3/webhook/refresh", json={"webhookIds": [hook_id]}).json()
    assert refreshed["expirationDate"] >= listed["expirationDate"]
