"""Signed webhook deliveries, as Slack and Jira send them, about things that exist in the sandbox.

Signatures are real (Slack v0 HMAC over ``v0:<timestamp>:<body>`` with a fresh timestamp;
Jira ``X-Hub-Signature: sha256=<HMAC(body)>``) and every delivery has its own id (Slack
``event_id``, Jira ``X-Atlassian-Webhook-Identifier``), so the hub verifies, dedupes and
stores each one: the ingest path does its real work. Deliveries name real issues and
messages so the hub's background processing of the inbox succeeds too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

import httpx

__all__ = [
    "JIRA_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "Delivery",
    "SlackTarget",
    "jira_delivery",
    "mixed_deliveries",
    "slack_delivery",
    "slack_targets",
]

SLACK_SIGNING_SECRET = "bench-slack-signing-secret"
JIRA_WEBHOOK_SECRET = "bench-jira-webhook-secret"
SLACK_BOT_TOKEN = "xoxb-passerelle-sandbox-0001"
_JSON = "application/json"


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class SlackTarget:
    channel: str
    ts: str
    user: str


def _dumps(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def slack_delivery(
    target: SlackTarget, secret: str = SLACK_SIGNING_SECRET, now: float | None = None
) -> Delivery:
    """An edited-message event (``message_changed``) about an existing message."""
    now = time.time() if now is None else now
    stamp = str(int(now))
    body = _dumps({
        "token": "bench", "team_id": "T0BENCH", "api_app_id": "A0BENCH", "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:20].upper()}", "event_time": int(now),
        "event": {
            "type": "message", "subtype": "message_changed", "channel": target.channel, "hidden": True,
            "ts": f"{now:.6f}", "event_ts": f"{now:.6f}",
            "message": {"type": "message", "user": target.user, "text": "edited by the benchmark",
                        "ts": target.ts, "edited": {"user": target.user, "ts": f"{now:.6f}"}},
        },
    })
    base = b"v0:" + stamp.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {"Content-Type": _JSON, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    return Delivery("/webhooks/slack/events", headers, body)


def jira_delivery(issue_number: int, secret: str = JIRA_WEBHOOK_SECRET, project: str = "CHK") -> Delivery:
    """A ``jira:issue_updated`` delivery about ``<project>-<issue_number>`` (id 10000 + number)."""
    body = _dumps({
        "timestamp": int(time.time() * 1000), "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "issue": {"id": str(10000 + issue_number), "key": f"{project}-{issue_number}",
                  "fields": {"project": {"key": project}, "summary": "edited by the benchmark"}},
    })
    headers = {
        "Content-Type": _JSON,
        "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
        "X-Hub-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "User-Agent": "Atlassian Webhook HTTP Client",
    }
    return Delivery("/webhooks/jira", headers, body)


def slack_targets(slack_url: str, limit: int = 200) -> list[SlackTarget]:
    """Existing messages of the sandbox workspace (first history page of every channel)."""
    auth = {"Authorization": f"Bearer {SLACK_BOT_TOKEN}"}
    with httpx.Client(base_url=slack_url, headers=auth, timeout=30) as client:
        channels = client.post("/api/conversations.list", data={"limit": 999}).json()["channels"]
        out: list[SlackTarget] = []
        for channel in channels:
            answer = client.post("/api/conversations.history",
                                 data={"channel": channel["id"], "limit": limit})
            for message in answer.json().get("messages", []):
                if message.get("user"):
                    out.append(SlackTarget(channel["id"], message["ts"], message["user"]))
    if not out:
        raise RuntimeError(f"the Slack sandbox at {slack_url} lists no messages")
    return out


def mixed_deliveries(count: int, slack: list[SlackTarget], issue_count: int) -> list[Delivery]:
    """Half Slack, half Jira, interleaved; each about a real message or issue, each unique."""
    now = time.time()
    out: list[Delivery] = []
    for i in range(count):
        if i % 2 == 0:
            out.append(slack_delivery(slack[(i // 2) % len(slack)], now=now))
        else:
            out.append(jira_delivery(1 + (i // 2) % issue_count))
    return out
