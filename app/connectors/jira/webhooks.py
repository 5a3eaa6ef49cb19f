"""Verify and parse Jira webhook deliveries.

Jira signs admin webhooks that have a secret with ``X-Hub-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body. Deliveries without a configured secret are refused: an
unsigned endpoint would let anyone trigger syncs. ``X-Atlassian-Webhook-Identifier`` is
the same on every retry of one delivery, so it is the dedupe key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from app.connectors.base import WebhookHint
from app.errors import WebhookRejected

__all__ = ["ISSUE_STREAM", "parse_delivery", "verify_signature"]

ISSUE_STREAM = "issues"
_DELETED = "jira:issue_deleted"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    # The intake's headers are keyed lower-case: one lookup instead of a scan (hot path).
    found = headers.get(wanted)
    if found is not None:
        return found
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str | None) -> None:
    """Raise ``WebhookRejected`` unless ``body`` carries a valid signature made with ``secret``."""
    if not secret:
        raise WebhookRejected("no Jira webhook secret is configured; unsigned deliveries are refused", 401)
    signature = _header(headers, "X-Hub-Signature")
    if not signature:
        raise WebhookRejected("missing X-Hub-Signature", 401)
    algorithm, _, digest = signature.partition("=")
    if algorithm.lower() != "sha256" or not digest:
        raise WebhookRejected("X-Hub-Signature is not a sha256 signature", 401)
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, digest.strip().lower()):
        raise WebhookRejected("X-Hub-Signature does not match the body", 401)


def _partition(issue: dict[str, Any]) -> str:
    project = ((issue.get("fields") or {}).get("project") or {}).get("key")
    if project:
        return str(project)
    key = str(issue.get("key") or "")
    return key.rsplit("-", 1)[0] if "-" in key else ""


def parse_delivery(connector: str, headers: Mapping[str, str], body: bytes) -> list[WebhookHint]:
    """The targeted sync a delivery asks for: the issue it names (deleted or changed)."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise WebhookRejected(f"the body is not JSON: {exc}", 400) from exc
    if not isinstance(payload, dict):
        raise WebhookRejected("the body is not a JSON object", 400)
    delivery_id = _header(headers, "X-Atlassian-Webhook-Identifier")
    issue = payload.get("issue")
    if not isinstance(issue, dict) or not issue.get("id"):
        return []  # an event about something else (project, sprint, version): nothing to sync
    issue_id = str(issue["id"])
    partition = _partition(issue)
    if payload.get("webhookEvent") == _DELETED:
        return [
            WebhookHint(
                connector=connector,
                stream=ISSUE_STREAM,
                partition=partition,
                deleted_ids=(issue_id,),
                delivery_id=delivery_id,
            )
        ]
    return [
        WebhookHint(
            connector=connector,
            stream=ISSUE_STREAM,
            partition=partition,
            external_ids=(issue_id,),
            delivery_id=delivery_id,
        )
    ]
