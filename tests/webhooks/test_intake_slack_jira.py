"""Slack and Jira intake through the real app: verified on raw bytes, deduped, stored before the 2xx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.connectors.slack.webhooks import SlackWebhooks
from app.errors import WebhookRejected
from webhooks.kit import (
    JIRA_SECRET,
    SAMPLES,
    flip_bit,
    hub_settings,
    jira_headers,
    running_app,
    sample,
    slack_headers,
)

NOW = 1_719_209_600
SLACK = "/webhooks/slack/events"
JIRA = "/webhooks/jira"


def _slack_event() -> bytes:
    return json.dumps(sample("slack/event_callback_message.json")).encode()


def _jira_event() -> bytes:
    return (SAMPLES / "jira/jira_issue_updated__status.zulip-fixture.json").read_bytes()


def test_the_slack_docs_test_vector_verifies() -> None:
    vector = sample("slack/request_signing_test_vector.json")
    receiver = SlackWebhooks("slack", vector["signing_secret"], clock=lambda: 1531420618 + 60)
    receiver.verify(vector["headers"], vector["body"].encode())
    with pytest.raises(WebhookRejected):
        receiver.verify(vector["headers"], flip_bit(vector["body"].encode()))


async def test_the_slack_test_vector_passes_the_route_signature_check(tmp_path: Path) -> None:
    vector = sample("slack/request_signing_test_vector.json")
    conf = {"slack": {"type": "slack", "bot_token": "xoxb-t", "signing_secret": vector["signing_secret"]}}
    async with running_app(hub_settings(tmp_path, conf), clock=lambda: 1531420618 + 30) as run:
        body = vector["body"].encode()
        good = await run.client.post(SLACK, content=body, headers=vector["headers"])
        bad = await run.client.post(SLACK, content=flip_bit(body), headers=vector["headers"])
        # The vector is a slash command (form body): authentic, but not an Events API delivery.
        assert good.status_code == 400, good.text
        assert "JSON" in good.json()["detail"]
        assert bad.status_code == 401
        assert run.hub.db.inbox_list() == []


async def test_slack_url_verification_answers_the_challenge_and_stores_nothing(tmp_path: Path) -> None:
    payload = sample("slack/url_verification.json")
    body = json.dumps(payload).encode()
    async with running_app(hub_settings(tmp_path), clock=lambda: NOW) as run:
        answer = await run.client.post(SLACK, content=body, headers=slack_headers(body, NOW))
        assert answer.status_code == 200
        assert answer.json() == {"challenge": payload["challenge"]}
        assert run.hub.db.inbox_list() == []


@pytest.mark.parametrize("copies", [1, 2, 3, 4])
async def test_a_slack_event_replayed_is_stored_once(tmp_path: Path, copies: int) -> None:
    body = _slack_event()
    async with running_app(hub_settings(tmp_path), clock=lambda: NOW) as run:
        answers = []
        for attempt in range(copies):
            headers = slack_headers(body, NOW - attempt)
            if attempt:
                headers |= {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"}
            answers.append(await run.client.post(SLACK, content=body, headers=headers))
        assert [a.status_code for a in answers] == [200] * copies
        assert [a.json()["duplicate"] for a in answers] == [False] + [True] * (copies - 1)
        stored = run.hub.db.inbox_list()
        assert [(i.source, i.delivery_id, i.body) for i in stored] == [("slack", "Ev079SP4TP1P", body)]
        assert stored[0].headers["x-passerelle-connector"] == "slack"


@pytest.mark.parametrize(
    "case",
    [
        "flipped_bit",
        "wrong_secret",
        "missing_signature",
        "missing_timestamp",
        "stale_timestamp",
        "future_timestamp",
    ],
)
async def test_a_slack_delivery_failing_verification_is_refused_and_not_stored(
    tmp_path: Path, case: str
) -> None:
    body = _slack_event()
    headers = slack_headers(body, NOW)
    sent = body
    match case:
        case "flipped_bit":
            sent = flip_bit(body)
        case "wrong_secret":
            headers = slack_headers(body, NOW, secret="not-the-secret")
        case "missing_signature":
            del headers["X-Slack-Signature"]
        case "missing_timestamp":
            del headers["X-Slack-Request-Timestamp"]
        case "stale_timestamp":
            headers = slack_headers(body, NOW - 301)
        case "future_timestamp":
            headers = slack_headers(body, NOW + 301)
    async with running_app(hub_settings(tmp_path), clock=lambda: NOW) as run:
        answer = await run.client.post(SLACK, content=sent, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["detail"]
        assert run.hub.db.inbox_list() == []


async def test_a_signed_slack_event_without_event_id_is_malformed(tmp_path: Path) -> None:
    payload = sample("slack/event_callback_message.json")
    del payload["event_id"]
    body = json.dumps(payload).encode()
    async with running_app(hub_settings(tmp_path), clock=lambda: NOW) as run:
        answer = await run.client.post(SLACK, content=body, headers=slack_headers(body, NOW))
        assert answer.status_code == 400
        assert "event_id" in answer.json()["detail"]
        assert run.hub.db.inbox_list() == []


@pytest.mark.parametrize("copies", [1, 4])
async def test_a_jira_delivery_retried_is_stored_once(tmp_path: Path, copies: int) -> None:
    body = _jira_event()
    async with running_app(hub_settings(tmp_path)) as run:
        for attempt in range(copies):
            headers = jira_headers(body, "d1f1c1a0-0000-4000-8000-000000000001") | {
                "X-Atlassian-Webhook-Retry": str(attempt)
            }
            answer = await run.client.post(JIRA, content=body, headers=headers)
            assert answer.status_code == 200
        stored = run.hub.db.inbox_list()
        assert [(i.source, i.delivery_id) for i in stored] == [
            ("jira", "d1f1c1a0-0000-4000-8000-000000000001")
        ]


@pytest.mark.parametrize("case", ["flipped_bit", "wrong_secret", "missing_signature", "not_sha256"])
async def test_a_jira_delivery_failing_verification_is_refused_and_not_stored(
    tmp_path: Path, case: str
) -> None:
    body = _jira_event()
    headers = jira_headers(body, "id-1")
    sent = body
    match case:
        case "flipped_bit":
            sent = flip_bit(body, 40)
        case "wrong_secret":
            headers = jira_headers(body, "id-1", secret=JIRA_SECRET + "x")
        case "missing_signature":
            del headers["X-Hub-Signature"]
        case "not_sha256":
            headers["X-Hub-Signature"] = headers["X-Hub-Signature"].replace("sha256=", "sha1=")
    async with running_app(hub_settings(tmp_path)) as run:
        answer = await run.client.post(JIRA, content=sent, headers=headers)
        assert answer.status_code == 401
        assert run.hub.db.inbox_list() == []


async def test_a_signed_jira_body_that_is_not_a_webhook_is_malformed(tmp_path: Path) -> None:
    body = b'{"hello": "world"}'
    async with running_app(hub_settings(tmp_path)) as run:
        answer = await run.client.post(JIRA, content=body, headers=jira_headers(body, "id-2"))
        assert answer.status_code == 400
        assert "webhookEvent" in answer.json()["detail"]
        assert run.hub.db.inbox_list() == []


async def test_a_vendor_without_a_configured_connector_is_not_found(tmp_path: Path) -> None:
    body = _jira_event()
    settings = hub_settings(tmp_path, {"slack": {"type": "slack", "bot_token": "x", "signing_secret": "y"}})
    async with running_app(settings) as run:
        answer = await run.client.post(JIRA, content=body, headers=jira_headers(body, "id-3"))
        graph = await run.client.post("/webhooks/microsoft/graph", params={"validationToken": "t"})
        assert (answer.status_code, graph.status_code) == (404, 404)
        assert "jira" in answer.json()["detail"]
        assert run.hub.db.inbox_list() == []
