"""Graph change notifications for Outlook calendars: handshake, verification, hints.

- Handshake: Graph POSTs ``?validationToken=<token>`` when a subscription is created; the
  answer is ``200 text/plain`` with the decoded token, within 10 s. The API route passes
  the query string's ``validationToken`` in ``headers`` (key ``validationtoken``) or calls
  :meth:`GraphWebhooks.handshake_answer` with the query parameters.
- A notification is authentic when its ``subscriptionId`` is one we created (else 403)
  and its ``clientState`` equals that subscription's secret, compared in constant time
  (else 401). Every notification of a delivery must pass.
- Hints name the calendar only: Graph notifies a series master for changes to its
  occurrences, so a delta read of the calendar (one call when nothing else changed)
  is both cheaper and more exact than fetching the named ids.
- Lifecycle events: ``missed`` and ``subscriptionRemoved`` ask for a resync of the
  calendar; ``reauthorizationRequired`` and ``subscriptionRemoved`` are also recorded
  on the registry so the connector renews or recreates the subscription.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.connectors.base import WebhookHint
from app.errors import WebhookRejected

__all__ = ["GraphSubscription", "GraphWebhooks", "SubscriptionRegistry"]


@dataclass(frozen=True)
class GraphSubscription:
    id: str
    calendar: str
    client_state: str
    expiration: datetime | None = None
    needs: frozenset[str] = field(default_factory=frozenset)
    """Lifecycle events received and not handled yet (reauthorizationRequired, subscriptionRemoved)."""


class SubscriptionRegistry:
    """Subscriptions this connector created (or was told to remember after a restart); thread-safe."""

    def __init__(self) -> None:
        self._subs: dict[str, GraphSubscription] = {}
        self._lock = threading.Lock()

    def add(self, sub: GraphSubscription) -> None:
        with self._lock:
            self._subs[sub.id] = sub

    def get(self, sub_id: str) -> GraphSubscription | None:
        with self._lock:
            return self._subs.get(sub_id)

    def remove(self, sub_id: str) -> None:
        with self._lock:
            self._subs.pop(sub_id, None)

    def mark(self, sub_id: str, lifecycle_event: str) -> None:
        with self._lock:
            sub = self._subs.get(sub_id)
            if sub is not None:
                self._subs[sub_id] = replace(sub, needs=sub.needs | {lifecycle_event})

    def all(self) -> list[GraphSubscription]:
        with self._lock:
            return list(self._subs.values())


class GraphWebhooks:
    def __init__(self, connector: str, stream: str, registry: SubscriptionRegistry) -> None:
        self._connector = connector
        self._stream = stream
        self._registry = registry

    @staticmethod
    def handshake_answer(query: Mapping[str, str]) -> str | None:
        """The text to answer (200, ``text/plain``) when ``query`` carries a validation token."""
        for key, value in query.items():
            if key.lower() == "validationtoken":
                return value  # query parsing already URL-decoded it, which is what Graph expects back
        return None

    def verify(self, headers: dict[str, str], body: bytes) -> None:
        if self.handshake_answer(headers) is not None:
            return
        for note in self._notifications(body):
            sub = self._registry.get(str(note.get("subscriptionId") or ""))
            if sub is None:
                raise WebhookRejected(f"unknown Graph subscription {note.get('subscriptionId')!r}", 403)
            presented = str(note.get("clientState") or "").encode()
            if not hmac.compare_digest(presented, sub.client_state.encode()):
                raise WebhookRejected(f"clientState does not match subscription {sub.id}", 401)

    def parse(self, headers: dict[str, str], body: bytes) -> list[WebhookHint]:
        token = self.handshake_answer(headers)
        if token is not None:
            return [WebhookHint(self._connector, self._stream, answer=token)]
        calendars: dict[str, list[str]] = {}
        for note in self._notifications(body):
            sub = self._registry.get(str(note.get("subscriptionId")))
            if sub is None:
                continue
            lifecycle = note.get("lifecycleEvent")
            if lifecycle in ("reauthorizationRequired", "subscriptionRemoved"):
                self._registry.mark(sub.id, str(lifecycle))
            if lifecycle == "reauthorizationRequired":
                continue  # nothing was lost: renewing is enough
            calendars.setdefault(sub.calendar, []).append(_delivery_key(note))
        return [
            WebhookHint(
                self._connector,
                self._stream,
                partition=calendar,
                delivery_id=hashlib.sha256("|".join(sorted(keys)).encode()).hexdigest()[:32],
            )
            for calendar, keys in calendars.items()
        ]

    @staticmethod
    def _notifications(body: bytes) -> list[dict[str, Any]]:
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise WebhookRejected("body is not JSON", 400) from exc
        notes = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(notes, list) or not all(isinstance(n, dict) for n in notes):
            raise WebhookRejected("not a changeNotificationCollection", 400)
        return notes


def _delivery_key(note: dict[str, Any]) -> str:
    # Graph sends no delivery id; a retried delivery repeats the same subscription, change and etag.
    data = note.get("resourceData") or {}
    return ":".join(
        str(x)
        for x in (
            note.get("subscriptionId"),
            note.get("changeType") or note.get("lifecycleEvent"),
            data.get("id"),
            data.get("@odata.etag"),
        )
    )
