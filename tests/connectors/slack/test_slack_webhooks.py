"""Events API intake: signature verification on raw bytes, handshake, and hints per event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.connectors.slack.webhooks import SlackWebhooks
from app.errors import WebhookRejected
from app.sandbox.slack import sign
from tests.vendor_specs import VENDOR_SPECS

SECRET = "connector-signing-secret"
NOW = 1_700_000_000
SAMPLES = VENDOR_SPECS / "samples" / "slack"


def signed(body: bytes, secret: str = SECRET, at: int = NOW) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(at), "X-Slack-Signature": sign(secret, str(at), body)}


def receiver(at: float = NOW) -> SlackWebhooks:
    return SlackWebhooks("slack", SECRET, clock=lambda: at)


def envelope(event: dict[str, Any], event_id: str = "Ev0001") -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event": event,
                       "event_id": event_id, "event_time": NOW}).encode()


def test_the_docs_test_vector_verifies() -> None:
    vector = json.loads((SAMPLES / "request_signing_test_vector.json").read_text())
    at = int(vector["headers"]["X-Slack-Request-Timestamp"])
    SlackWebhooks("slack", vector["signing_secret"], clock=lambda: at + 10).verify(
        vector["headers"], vector["body"].encode())


def test_a_correctly_signed_delivery_verifies_with_any_header_case() -> None:
    body = envelope({"type": "message", "channel": "C1", "ts": "1.000001"})
    headers = {k.lower(): v for k, v in signed(body).items()}
    receiver().verify(headers, body)


@pytest.mark.parametrize(
    "tamper",
    ["flipped_bit", "wrong_secret", "missing_signature", "missing_timestamp", "stale", "future",
     "not_a_number"],
)
def test_a_tampered_or_stale_delivery_is_rejected(tamper: str) -> None:
    body = envelope({"type": "message", "channel": "C1", "ts": "1.000001"})
    headers = signed(body)
    if tamper == "flipped_bit":
        body = bytes([body[0] ^ 0x01]) + body[1:]
    elif tamper == "wrong_secret":
        headers = signed(body, secret="not-the-secret")
    elif tamper == "missing_signature":
        del headers["X-Slack-Signature"]
    elif tamper == "missing_timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif tamper == "stale":
        headers = signed(body, at=NOW - 301)
    elif tamper == "future":
        headers = signed(body, at=NOW + 301)
    else:
        headers["X-Slack-Request-Timestamp"] = "soon"
    with pytest.raises(WebhookRejected) as caught:
        receiver().verify(headers, body)
    assert caught.value.status_code == 401


def test_a_timestamp_just_inside_five_minutes_is_accepted() -> None:
    body = envelope({"type": "message", "channel": "C1", "ts": "1.000001"})
    receiver().verify(signed(body, at=NOW - 300), body)


def test_without_a_signing_secret_nothing_verifies() -> None:
    body = b"{}"
    with pytest.raises(WebhookRejected):
        SlackWebhooks("slack", None, clock=lambda: NOW).verify(signed(body), body)


def test_url_verification_is_answered_with_the_challenge() -> None:
    sample = (SAMPLES / "url_verification.json").read_bytes()
    hints = receiver().parse({}, sample)
    assert [h.answer for h in hints] == [json.loads(sample)["challenge"]]


def test_the_captured_message_event_names_its_message_and_dedupes_on_event_id() -> None:
    sample = (SAMPLES / "event_callback_message.json").read_bytes()
    payload = json.loads(sample)
    [hint] = receiver().parse({}, sample)
    event = payload["event"]
    assert (hint.stream, hint.partition, hint.external_ids) == (
        "messages", event["channel"], (f"{event['channel']}:{event['ts']}",))
    assert hint.delivery_id == payload["event_id"]


def test_a_thread_reply_names_the_reply_and_its_parent() -> None:
    [hint] = receiver().parse({}, envelope({"type": "message", "channel": "C1", "ts": "2.000000",
                                            "thread_ts": "1.000000", "event_ts": "2.000000"}))
    assert hint.external_ids == ("C1:2.000000", "C1:1.000000")


def test_an_edit_names_the_edited_message_and_a_delete_names_a_deletion() -> None:
    [edit] = receiver().parse({}, envelope({"type": "message", "subtype": "message_changed", "channel": "C1",
                                            "ts": "9.000000", "message": {"ts": "1.000000", "text": "x"}}))
    assert edit.external_ids == ("C1:1.000000",)
    deletion = {"type": "message", "subtype": "message_deleted", "channel": "C1", "ts": "9.000000",
                "deleted_ts": "1.000000"}
    [delete] = receiver().parse({}, envelope(deletion))
    assert (delete.external_ids, delete.deleted_ids) == ((), ("C1:1.000000",))


def test_a_reaction_names_the_message_it_was_added_to() -> None:
    sample = json.loads((SAMPLES / "reaction_added.slack-api-ref.json").read_text())["example"]
    [hint] = receiver().parse({}, envelope(sample))
    item = sample["item"]
    assert hint.external_ids == (f"{item['channel']}:{item['ts']}",)


def test_a_body_that_is_not_json_is_rejected_as_bad_request() -> None:
    with pytest.raises(WebhookRejected) as caught:
        receiver().parse({}, b"token=abc")
    assert caught.value.status_code == 400
