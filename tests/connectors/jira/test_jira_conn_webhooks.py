"""Webhook verification on raw bytes and parsing into targeted syncs."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.connectors.jira import JiraConnector
from app.connectors.jira.webhooks import verify_signature
from app.errors import WebhookRejected
from app.sandbox.common import serve_in_thread
from app.sandbox.jira import JiraSimulator
from app.settings import JiraSettings

WEBHOOK_SECRET = "whsec-test-0123456789"  # as configured by the settings fixture
BODY = json.dumps(
    {
        "webhookEvent": "jira:issue_updated",
        "issue": {"id": "10007", "key": "CHK-7", "fields": {"project": {"key": "CHK"}}},
    }
).encode()


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {
        "X-Hub-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "X-Atlassian-Webhook-Identifier": "delivery-1",
    }


@pytest.fixture
def receiver_connector(settings: JiraSettings) -> JiraConnector:
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == WEBHOOK_SECRET
    return JiraConnector("jira", settings)


def test_a_correctly_signed_body_verifies_and_names_the_issue(receiver_connector: JiraConnector) -> None:
    receiver_connector.verify(signed(BODY), BODY)
    (hint,) = receiver_connector.parse(signed(BODY), BODY)
    assert (hint.stream, hint.partition, hint.external_ids, hint.delivery_id) == (
        "issues",
        "CHK",
        ("10007",),
        "delivery-1",
    )


def test_a_flipped_bit_is_rejected(receiver_connector: JiraConnector) -> None:
    tampered = bytearray(BODY)
    tampered[10] ^= 0x01
    with pytest.raises(WebhookRejected) as caught:
        receiver_connector.verify(signed(BODY), bytes(tampered))
    assert caught.value.status_code == 401


def test_a_wrong_secret_is_rejected(receiver_connector: JiraConnector) -> None:
    with pytest.raises(WebhookRejected):
        receiver_connector.verify(signed(BODY, secret="someone-else"), BODY)


def test_a_missing_or_malformed_header_is_rejected(receiver_connector: JiraConnector) -> None:
    with pytest.raises(WebhookRejected, match="missing"):
        receiver_connector.verify({"X-Atlassian-Webhook-Identifier": "d"}, BODY)
    with pytest.raises(WebhookRejected):
        receiver_connector.verify({"X-Hub-Signature": "sha1=abc"}, BODY)


def test_without_a_configured_secret_every_delivery_is_rejected() -> None:
    with pytest.raises(WebhookRejected, match="no Jira webhook secret"):
        verify_signature(signed(BODY), BODY, None)


def test_a_deleted_issue_becomes_a_deletion_hint(receiver_connector: JiraConnector) -> None:
    body = json.dumps(
        {"webhookEvent": "jira:issue_deleted", "issue": {"id": "10009", "key": "CHK-9"}}
    ).encode()
    (hint,) = receiver_connector.parse({}, body)
    assert hint.deleted_ids == ("10009",)
    assert hint.partition == "CHK"


@pytest.fixture
def captured(sim: JiraSimulator) -> Iterator[list[tuple[dict[str, str], bytes]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    served = serve_in_thread(Starlette(routes=[Route("/jira", hook, methods=["POST"])]))
    sim.register_webhook(
        f"{served.url}/jira", ["jira:issue_updated", "comment_created"], secret=WEBHOOK_SECRET
    )
    try:
        yield received
    finally:
        served.stop()


def test_real_deliveries_from_the_simulator_verify_and_parse(
    sim: JiraSimulator, receiver_connector: JiraConnector, captured: list[tuple[dict[str, str], bytes]]
) -> None:
    sim.edit_issue("CHK-7", summary="Changed in Jira")
    sim.add_comment("CHK-8", "A comment")
    assert sim.webhooks.wait_idle(10)
    hints = []
    for headers, body in captured:
        receiver_connector.verify(headers, body)
        hints.extend(receiver_connector.parse(headers, body))
    assert [h.external_ids for h in hints] == [(str(sim.issue("CHK-7").id),), (str(sim.issue("CHK-8").id),)]
    assert all(h.delivery_id for h in hints)


def test_a_connector_without_secret_refuses_even_signed_deliveries(settings: JiraSettings) -> None:
    unsigned = JiraConnector("jira", settings.model_copy(update={"webhook_secret": None}))
    with pytest.raises(WebhookRejected):
        unsigned.verify(signed(BODY), BODY)
