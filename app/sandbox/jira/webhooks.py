"""Jira webhook deliveries: which hooks an event goes to, the payload, the signature.

Admin webhooks may carry a secret: the body is signed as
``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>``. Every attempt of one
delivery carries the same ``X-Atlassian-Webhook-Identifier``. Jira retries on
408, 409, 425, 429, 5xx and timeouts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from app.sandbox.common.webhooks import Delivery
from app.sandbox.jira.model import Comment, Issue, Webhook
from app.sandbox.jira.render import Renderer, select_fields

__all__ = ["RETRYABLE", "build_delivery", "event_payload", "sign"]

RETRYABLE = frozenset({408, 409, 425, 429})


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _ends_delivery(status: int) -> bool:
    return status not in RETRYABLE and status < 500


def build_delivery(
    hook: Webhook, event: str, payload: dict[str, Any], retry_delays_s: Sequence[float]
) -> Delivery:
    """One delivery of ``payload`` to ``hook``; the body is fixed now, so retries resend the same bytes."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    identifier = str(uuid.uuid4())

    def build(attempt: int) -> tuple[dict[str, str], bytes]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Atlassian-Webhook-Identifier": identifier,
            "X-Atlassian-Webhook-Retry": str(attempt),
            "User-Agent": "Atlassian Webhook HTTP Client",
        }
        if hook.secret:
            headers["X-Hub-Signature"] = sign(hook.secret, body)
        return headers, body

    ends: Callable[[int], bool] = _ends_delivery
    return Delivery(url=hook.url, build=build, event=event, retry_delays_s=tuple(retry_delays_s), ok=ends)


def event_payload(
    render: Renderer,
    event: str,
    issue: Issue,
    actor: str,
    timestamp: int,
    changelog: list[dict[str, Any]] | None = None,
    comment: Comment | None = None,
) -> dict[str, Any]:
    """The body Jira posts for ``event``: REST v2 JSON (plain-text rich text), rendered now."""
    payload: dict[str, Any] = {"timestamp": timestamp, "webhookEvent": event, "user": render.user(actor, 2)}
    if comment is not None:
        payload["comment"] = render.comment(issue, comment, 2)
        payload["issue"] = {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{render.base}/rest/api/2/issue/{issue.id}",
            "fields": {
                "summary": issue.fields["summary"],
                "status": render.status(issue.fields["status"], 2),
                "project": render.project(render.store.projects[issue.project_key], 2),
            },
        }
        return payload
    payload["issue_event_type_name"] = {
        "jira:issue_created": "issue_created",
        "jira:issue_deleted": "issue_deleted",
    }.get(event, "issue_generic")
    payload["issue"] = render.issue(issue, select_fields(["*all"], "*all") or [], api=2)
    if changelog:
        payload["changelog"] = {
            "id": issue.changelog[-1]["id"] if issue.changelog else "0",
            "items": changelog,
        }
    return payload
