"""The intake's hot path (app/api/intake_asgi.py): POSTs to the intake paths are answered before
FastAPI's stack, exactly as the documented FastAPI routes answer them; everything else falls through."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from webhooks.kit import AUTH, hub_settings, jira_headers, running_app, sample, slack_headers

from app.api import create_app
from app.api.routes import webhooks as webhook_routes
from app.hub import Hub
from app.settings import Settings
from app.webhooks import WebhookService
from app.webhooks.intake import IntakeAnswer, Outcome, stored_answer_json

NOW = 1_719_209_600
SLACK = "/webhooks/slack/events"
JIRA = "/webhooks/jira"
GRAPH = "/webhooks/microsoft/graph"


def _routes_only(settings: Settings) -> FastAPI:
    """A bare FastAPI app with only the webhook routes: what answers without the hot path."""
    app = FastAPI()
    app.include_router(webhook_routes.router)
    return app


@contextlib.asynccontextmanager
async def _client(app: FastAPI, settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Hub]]:
    async with Hub(settings, migrate=True, connect=False) as hub:
        app.state.hub = hub
        app.state.webhooks = WebhookService(hub, clock=lambda: NOW, backoff_base_s=0.0)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield client, hub


def _deliveries() -> list[tuple[str, dict[str, str], bytes, dict[str, str]]]:
    """(path, headers, body, query): accepted, duplicate, refused, malformed, handshakes, oversize."""
    event = json.dumps(sample("slack/event_callback_message.json")).encode()
    challenge = json.dumps(sample("slack/url_verification.json")).encode()
    issue = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "key": "CHK-1"}}).encode()
    not_a_webhook = json.dumps({"hello": "world"}).encode()
    token = "Validation: reachability Request-Id: 1+2&3 é"
    return [
        (SLACK, slack_headers(event, NOW), event, {}),
        (SLACK, slack_headers(event, NOW), event, {}),  # a replay: duplicate
        (SLACK, slack_headers(event, NOW - 3600), event, {}),  # outside the replay window
        (SLACK, slack_headers(challenge, NOW), challenge, {}),
        (JIRA, jira_headers(issue, 'id-"quoted"\\'), issue, {}),
        (JIRA, jira_headers(issue, "other", secret="guess"), issue, {}),
        (JIRA, jira_headers(not_a_webhook, "x"), not_a_webhook, {}),
        (JIRA, {}, b"x" * (64 * 1024 + 1), {}),  # over webhooks.max_body_bytes
        (GRAPH, {"Content-Type": "text/plain"}, b"", {"validationToken": token}),
        ("/webhooks/google/calendar", {"X-Goog-Channel-ID": "nobody's"}, b"", {}),
    ]


async def _answers(make_app: Callable[[Settings], FastAPI], tmp_path: Path) -> list[tuple[Any, ...]]:
    settings = hub_settings(tmp_path)
    async with _client(make_app(settings), settings) as (client, hub):
        answers = []
        for path, headers, body, query in _deliveries():
            got = await client.post(path, content=body, headers=headers, params=query)
            answers.append((got.status_code, got.headers["content-type"], got.headers["content-length"], got.content))
        stored = sorted((i.source, i.delivery_id, i.body) for i in hub.db.inbox_list())
    return [*answers, stored]


async def test_the_hot_path_answers_byte_for_byte_as_the_documented_routes(tmp_path: Path) -> None:
    hot = await _answers(lambda s: create_app(s, start_scheduler=False, migrate=True), tmp_path / "hot")
    routes = await _answers(_routes_only, tmp_path / "routes")

    assert hot == routes
    statuses = [a[0] for a in hot[:-1]]
    assert statuses == [200, 200, 401, 200, 200, 401, 400, 413, 200, 403]
    assert json.loads(hot[1][3])["duplicate"] is True
    assert hot[8][1].startswith("text/plain") and hot[8][3].decode() == "Validation: reachability Request-Id: 1+2&3 é"
    assert [(s, d) for s, d, _ in hot[-1]] == [("jira", 'id-"quoted"\\'), ("slack", "Ev079SP4TP1P")]


async def test_other_methods_and_paths_fall_through_to_fastapi(tmp_path: Path) -> None:
    async with running_app(hub_settings(tmp_path)) as run:
        assert (await run.client.get(JIRA)).status_code == 405
        redirected = await run.client.post(JIRA + "/", content=b"{}")
        assert redirected.status_code == 307 and redirected.headers["location"].endswith(JIRA)
        schema = (await run.client.get("/openapi.json", headers=AUTH)).json()
        for path in (JIRA, SLACK, GRAPH, GRAPH + "/lifecycle", "/webhooks/google/calendar"):
            assert "post" in schema["paths"][path], path
        assert run.hub.db.inbox_list() == []


async def test_a_client_that_hangs_up_mid_body_gets_nothing_stored(tmp_path: Path) -> None:
    body = json.dumps(sample("slack/event_callback_message.json")).encode()
    headers = slack_headers(body, NOW)
    async with running_app(hub_settings(tmp_path), clock=lambda: NOW) as run:
        messages = iter(
            [{"type": "http.request", "body": body[:20], "more_body": True}, {"type": "http.disconnect"}]
        )
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return next(messages)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": SLACK,
            "raw_path": SLACK.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 2),
        }
        await run.app(scope, receive, send)

        assert sent == []
        assert run.hub.db.inbox_list() == []


@pytest.mark.parametrize("delivery_id", ["Ev0PV52K25", 'a"b\\c', "tab\there", "ünïcødé ✓", "\x00\x1f"])
@pytest.mark.parametrize("outcome", [Outcome.ACCEPTED, Outcome.DUPLICATE])
def test_the_stored_answer_template_renders_what_a_json_encoder_would(delivery_id: str, outcome: str) -> None:
    payload = {"ok": True, "delivery_id": delivery_id, "duplicate": outcome == Outcome.DUPLICATE}
    answer = IntakeAnswer(200, outcome, payload=payload, delivery_id=delivery_id)

    rendered = stored_answer_json(answer)

    assert rendered == json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def test_only_stored_answers_use_the_template() -> None:
    assert stored_answer_json(IntakeAnswer(200, Outcome.HANDSHAKE, payload={"challenge": "c"})) is None
    assert stored_answer_json(IntakeAnswer(401, Outcome.REJECTED, "bad signature")) is None
