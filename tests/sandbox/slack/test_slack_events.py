"""Events API: url_verification handshake, signed event_callback deliveries, retries with Slack's headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from slack_reference import SPECS
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.slack import SlackSimulator, sign

SECRET = "s3cr3t-signing-secret"
VECTOR = SPECS.parent / "samples" / "slack" / "request_signing_test_vector.json"


@dataclass
class Receiver:
    """An events endpoint on loopback that answers per a script: ``ok``, ``fail`` (500) or ``slow`` (4 s)."""

    script: list[str] = field(default_factory=list)
    echo_challenge: bool = True
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((dict(request.headers), body))
        data = json.loads(body)
        if data.get("type") == "url_verification":
            return JSONResponse({"challenge": data["challenge"] if self.echo_challenge else "nope"})
        action = self.script.pop(0) if self.script else "ok"
        if action == "slow":
            await asyncio.sleep(4)
        if action == "fail":
            return PlainTextResponse("boom", status_code=500)
        return PlainTextResponse("")

    def callbacks(self) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [(h, json.loads(b)) for h, b in self.received if json.loads(b)["type"] == "event_callback"]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, ServedApp]]:
    rec = Receiver()
    served = serve_in_thread(Starlette(routes=[Route("/slack/events", rec.handle, methods=["POST"])]))
    try:
        yield rec, served
    finally:
        served.stop()


def _subscribe(served: ServedApp, url: str, delays: list[float] | None = None) -> httpx.Response:
    return httpx.put(served.url + "/_sandbox/events",
                     json={"url": url, "signing_secret": SECRET,
                           "retry_delays_s": delays or [0.05, 0.05, 0.05]},
                     timeout=10)


def test_the_docs_signing_vector_reproduces_and_verifies() -> None:
    vector = json.loads(Path(VECTOR).read_text())
    headers = vector["headers"]
    body = vector["body"].encode()
    sent = headers["X-Slack-Request-Timestamp"]
    assert sign(vector["signing_secret"], sent, body) == headers["X-Slack-Signature"]
    verifier = SignatureVerifier(vector["signing_secret"], clock=_FixedClock(int(sent)))
    assert verifier.is_valid_request(body, headers)


class _FixedClock:
    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)


def test_a_request_url_is_accepted_only_when_it_echoes_the_challenge(
    served: ServedApp, receiver: tuple[Receiver, ServedApp]
) -> None:
    rec, endpoint = receiver
    rec.echo_challenge = False
    refused = _subscribe(served, endpoint.url + "/slack/events")
    assert refused.status_code == 400
    rec.echo_challenge = True
    accepted = _subscribe(served, endpoint.url + "/slack/events")
    assert accepted.json()["ok"] is True
    headers, body = rec.received[-1]
    payload = json.loads(body)
    assert set(payload) == {"token", "challenge", "type"} and payload["type"] == "url_verification"
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_changes_are_delivered_as_signed_event_callbacks(
    sim: SlackSimulator, served: ServedApp, receiver: tuple[Receiver, ServedApp]
) -> None:
    rec, endpoint = receiver
    assert _subscribe(served, endpoint.url + "/slack/events").status_code == 200
    cid = sim.channel_id("dev")
    parent = sim.post_message(cid, "CHK-4 is merged", user="dev1")
    reply = sim.post_message(cid, "nice", user="qa", thread_ts=parent["ts"])
    sim.edit_message(cid, parent["ts"], "CHK-4 is merged and deployed", user="dev1")
    sim.add_reaction(cid, parent["ts"], "tada", user="po")
    sim.remove_reaction(cid, parent["ts"], "tada", user="po")
    sim.delete_message(cid, reply["ts"])
    assert sim.webhooks.wait_idle(10)

    wrapper = json.loads((SPECS / "slack_common_event_wrapper_schema.json").read_text())
    wrapper["required"].remove("authed_users")  # no longer sent by Slack (see vendor-specs README)
    verifier = SignatureVerifier(SECRET)
    kinds = []
    for headers, body in rec.received[1:]:
        assert verifier.is_valid_request(body, headers)
        envelope = json.loads(body)
        jsonschema.validate(envelope, wrapper)
        event = envelope["event"]
        kinds.append((event["type"], event.get("subtype")))
    assert kinds == [("message", None), ("message", None), ("message", "message_changed"),
                     ("reaction_added", None), ("reaction_removed", None), ("message", "message_deleted")]
    events = [e for _, e in rec.callbacks()]
    assert events[1]["event"]["thread_ts"] == parent["ts"]
    assert events[2]["event"]["message"]["edited"]["user"] == parent["user"]
    assert events[3]["event"]["item"] == {"type": "message", "channel": cid, "ts": parent["ts"]}
    assert events[5]["event"]["deleted_ts"] == reply["ts"]
    assert len({e["event_id"] for e in events}) == len(events)


def test_a_failed_delivery_is_retried_with_the_retry_headers(
    sim: SlackSimulator, served: ServedApp, receiver: tuple[Receiver, ServedApp]
) -> None:
    rec, endpoint = receiver
    _subscribe(served, endpoint.url + "/slack/events")
    rec.script = ["fail", "fail", "fail", "fail"]
    sim.post_message(sim.channel_id("dev"), "hello")
    assert sim.webhooks.wait_idle(10)
    attempts = rec.callbacks()
    assert len(attempts) == 4  # the first try and 3 retries
    assert len({e["event_id"] for _, e in attempts}) == 1
    assert "x-slack-retry-num" not in attempts[0][0]
    assert [(h["x-slack-retry-num"], h["x-slack-retry-reason"]) for h, _ in attempts[1:]] == [
        ("1", "http_error"), ("2", "http_error"), ("3", "http_error")]


def test_a_receiver_slower_than_three_seconds_gets_an_http_timeout_retry(
    sim: SlackSimulator, served: ServedApp, receiver: tuple[Receiver, ServedApp]
) -> None:
    rec, endpoint = receiver
    _subscribe(served, endpoint.url + "/slack/events")
    rec.script = ["slow", "ok"]
    sim.post_message(sim.channel_id("dev"), "hello")
    assert sim.webhooks.wait_idle(15)
    attempts = rec.callbacks()
    assert len(attempts) == 2
    retry = attempts[1][0]
    assert (retry["x-slack-retry-num"], retry["x-slack-retry-reason"]) == ("1", "http_timeout")
