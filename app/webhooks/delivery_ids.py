"""The vendor's delivery id of a webhook: what makes a replayed delivery a duplicate.

Jira: ``X-Atlassian-Webhook-Identifier`` (the same on every retry). Slack: the
envelope's ``event_id``. Google: channel id + ``X-Goog-Message-Number``. Graph has no
delivery id: a digest of what each notification names (subscription, resource, change
type, etag, lifecycle event) is stable across retries, whatever the JSON formatting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["body_digest", "graph_delivery_id"]

_GRAPH_FIELDS = (
    "subscriptionId",
    "resource",
    "changeType",
    "lifecycleEvent",
    "subscriptionExpirationDateTime",
)


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def graph_delivery_id(notifications: Sequence[Mapping[str, Any]]) -> str:
    named = []
    for note in notifications:
        data = note.get("resourceData")
        resource_data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        named.append(
            [str(note.get(f, "")) for f in _GRAPH_FIELDS]
            + [str(resource_data.get("@odata.etag", "")), str(resource_data.get("id", ""))]
        )
    canonical = json.dumps(sorted(named), separators=(",", ":"))
    return "graph:" + hashlib.sha256(canonical.encode()).hexdigest()
