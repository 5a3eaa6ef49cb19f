"""Webhook intake, framework-neutral: verify on the raw bytes, answer handshakes, dedupe, persist.

Two steps. :meth:`WebhookIntake.prepare` checks a delivery (steps 1-6 below) and returns
either the final :class:`IntakeAnswer` or a :class:`PendingDelivery`; it is blocking when
the source needs store reads (Google channels, Graph subscriptions, see
:meth:`WebhookIntake.prepare_blocks`), so call it from a worker thread then.
:meth:`WebhookIntake.store` (async) writes a pending delivery through the group-commit
:class:`~app.webhooks.inbox_writer.InboxWriter` and answers only once it is durable.
:meth:`WebhookIntake.receive` does both in one blocking call (a transaction of its own).
None of them raises for a bad delivery. The order of checks is the contract:

1. no enabled connector of the route's type -> 404
2. Graph ``validationToken`` -> 200 ``text/plain`` with the decoded token (nothing else checked)
3. Google channel / Graph subscription we do not hold -> 403
4. verification by the connector's receiver (signature, replay window, token, clientState) -> 401
5. body structure (JSON, delivery id) -> 400 with the reason
6. Slack ``url_verification`` -> 200 with the challenge; Google ``sync`` -> 200; nothing stored
7. the inbox write (duplicates are acknowledged, not stored twice); a failed write -> 503
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

import structlog

from app.errors import ConfigError, WebhookRejected
from app.storage.protocol import Store
from app.webhooks.delivery_ids import body_digest, graph_delivery_id
from app.webhooks.headers import Headers, stored_headers
from app.webhooks.inbox_writer import InboxWriter
from app.webhooks.receivers import ReceiverSet
from app.webhooks.sources import CONNECTOR_TYPE, Source

__all__ = ["IntakeAnswer", "IntakeRequest", "Outcome", "PendingDelivery", "WebhookIntake", "stored_answer_json"]

log = structlog.get_logger(__name__)

# Subscription rows in these states still receive deliveries (an old Google channel is
# kept "stopping" while its successor takes over).
_LIVE = frozenset({"active", "stopping"})


class Outcome:
    """The ``result`` label of a delivery (also the metrics label)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    HANDSHAKE = "handshake"
    IGNORED = "ignored"
    REJECTED = "rejected"
    MALFORMED = "malformed"
    UNKNOWN_SUBSCRIPTION = "unknown_subscription"
    NO_CONNECTOR = "no_connector"
    TOO_LARGE = "too_large"
    STORE_FAILED = "store_failed"


# The three value types below are not frozen: a frozen dataclass's __init__ costs three times
# as much (one object.__setattr__ per field), three objects a delivery on the hot path.
# Treat them as values all the same.


@dataclass(slots=True)
class IntakeRequest:
    headers: Headers
    body: bytes
    query: Mapping[str, str]


@dataclass(slots=True)
class IntakeAnswer:
    status: int
    outcome: str
    detail: str | None = None
    payload: dict[str, Any] | None = None
    text: str | None = None
    connector: str | None = None
    delivery_id: str | None = None


@dataclass(slots=True)
class PendingDelivery:
    """A verified delivery that is to be stored; answered ``ok_status`` once it is."""

    source: Source
    connector: str
    delivery_id: str
    headers: dict[str, str]
    body: bytes
    ok_status: int


# Sources whose checks read the store (channel / subscription rows): prepared in a worker thread.
_READS_STORE = frozenset({Source.GOOGLE, Source.GRAPH, Source.GRAPH_LIFECYCLE})


class _Refusal(Exception):
    def __init__(self, status: int, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.answer = IntakeAnswer(status, outcome, detail)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refusal(400, Outcome.MALFORMED, f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _Refusal(400, Outcome.MALFORMED, "body is not a JSON object")
    return data


def _graph_notifications(body: bytes) -> list[dict[str, Any]]:
    value = _json_object(body).get("value")
    if not isinstance(value, list) or not value or not all(isinstance(n, dict) for n in value):
        raise _Refusal(400, Outcome.MALFORMED, "body has no 'value' list of notifications")
    for note in value:
        if not isinstance(note.get("subscriptionId"), str):
            raise _Refusal(400, Outcome.MALFORMED, "a notification has no subscriptionId")
    return value


class WebhookIntake:
    def __init__(self, store: Store, receivers: ReceiverSet, writer: InboxWriter | None = None) -> None:
        self._store = store
        self._receivers = receivers
        self.writer = writer or InboxWriter(store)
        # Bound once (logging is configured before the app is built): the lazy module logger
        # binds anew on every call, a cost on the one line logged per delivery even when
        # debug is filtered out.
        self._received_log: Any = log.bind()

    @staticmethod
    def prepare_blocks(source: Source) -> bool:
        """Whether :meth:`prepare` reads the store for ``source`` (else it is CPU only: HMAC, JSON)."""
        return source in _READS_STORE

    def prepare(self, source: Source, request: IntakeRequest) -> IntakeAnswer | PendingDelivery:
        """Steps 1-6: the final answer, or the delivery to store."""
        try:
            return self._receive(source, request)
        except _Refusal as refusal:
            log.info(
                "webhook.refused",
                source=source.value,
                status=refusal.answer.status,
                outcome=refusal.answer.outcome,
                detail=refusal.answer.detail,
            )
            return refusal.answer

    async def store(self, pending: PendingDelivery) -> IntakeAnswer:
        """Step 7 with group commit: answers once the delivery's transaction committed."""
        try:
            written = await self.writer.put(
                pending.source.value, pending.delivery_id, pending.headers, pending.body
            )
        except Exception as exc:  # any store failure: the vendor must retry, so answer 5xx
            return _store_failed(pending, exc)
        return _stored(pending, written, self._received_log)

    def receive(self, source: Source, request: IntakeRequest) -> IntakeAnswer:
        """Steps 1-7 in one blocking call, the delivery in a transaction of its own."""
        prepared = self.prepare(source, request)
        if isinstance(prepared, IntakeAnswer):
            return prepared
        try:
            written = self._store.inbox_put(
                prepared.source.value, prepared.delivery_id, prepared.headers, prepared.body
            )
        except Exception as exc:  # any store failure: the vendor must retry, so answer 5xx
            return _store_failed(prepared, exc)
        return _stored(prepared, written, self._received_log)

    # --- the steps ----------------------------------------------------------------------------

    def _receive(self, source: Source, request: IntakeRequest) -> IntakeAnswer | PendingDelivery:
        candidates = self._receivers.names_of_type(CONNECTOR_TYPE[source])
        if not candidates:
            raise _Refusal(404, Outcome.NO_CONNECTOR, f"no {CONNECTOR_TYPE[source]} connector is configured")
        if source in (Source.GRAPH, Source.GRAPH_LIFECYCLE) and "validationToken" in request.query:
            # Graph's reachability check when a subscription is created: echo, nothing to verify.
            return IntakeAnswer(200, Outcome.HANDSHAKE, text=request.query["validationToken"])
        match source:
            case Source.GOOGLE:
                candidates = [self._google_owner(request.headers, candidates)]
            case Source.GRAPH | Source.GRAPH_LIFECYCLE:
                candidates = [self._graph_owner(request.body, candidates)]
        connector = self._verify(candidates, request)
        return self._store_delivery(source, connector, request)

    def _google_owner(self, headers: Headers, candidates: list[str]) -> str:
        channel = headers.get("x-goog-channel-id")
        if not channel:
            raise _Refusal(400, Outcome.MALFORMED, "missing X-Goog-Channel-ID")
        row = self._store.get_subscription(Source.GOOGLE.value, channel)
        if row is None or row.status not in _LIVE or row.connector not in candidates:
            raise _Refusal(403, Outcome.UNKNOWN_SUBSCRIPTION, f"unknown channel {channel!r}")
        resource = headers.get("x-goog-resource-id")
        if row.resource and resource != row.resource:
            raise _Refusal(403, Outcome.UNKNOWN_SUBSCRIPTION, f"channel {channel!r} watches another resource")
        return row.connector

    def _graph_owner(self, body: bytes, candidates: list[str]) -> str:
        owners: set[str] = set()
        for note in _graph_notifications(body):
            sub_id = note["subscriptionId"]
            row = self._store.get_subscription(Source.GRAPH.value, sub_id)
            if row is None or row.status not in _LIVE or row.connector not in candidates:
                raise _Refusal(403, Outcome.UNKNOWN_SUBSCRIPTION, f"unknown subscription {sub_id!r}")
            owners.add(row.connector)
        if len(owners) != 1:
            raise _Refusal(400, Outcome.MALFORMED, "notifications of several connectors in one delivery")
        return owners.pop()

    def _verify(self, candidates: list[str], request: IntakeRequest) -> str:
        """The first candidate whose receiver accepts the delivery (each holds its own secret)."""
        first: WebhookRejected | None = None
        for name in candidates:
            try:
                receiver = self._receivers.get(name)
            except ConfigError as exc:
                raise _Refusal(404, Outcome.NO_CONNECTOR, str(exc)) from exc
            try:
                receiver.verify(request.headers, request.body)
            except WebhookRejected as exc:
                first = first or exc
                continue
            return name
        assert first is not None
        raise _Refusal(first.status_code, Outcome.REJECTED, first.reason)

    def _delivery_id(self, source: Source, request: IntakeRequest) -> str | IntakeAnswer:
        """The dedupe key, or the answer for a delivery that is a handshake and is not stored."""
        headers = request.headers
        match source:
            case Source.JIRA:
                data = _json_object(request.body)
                if not isinstance(data.get("webhookEvent"), str):
                    raise _Refusal(400, Outcome.MALFORMED, "no webhookEvent in the body")
                return headers.get("x-atlassian-webhook-identifier") or body_digest(request.body)
            case Source.SLACK:
                data = _json_object(request.body)
                kind = data.get("type")
                if kind == "url_verification":
                    challenge = data.get("challenge")
                    if not isinstance(challenge, str):
                        raise _Refusal(400, Outcome.MALFORMED, "url_verification without a challenge")
                    return IntakeAnswer(200, Outcome.HANDSHAKE, payload={"challenge": challenge})
                if kind != "event_callback":
                    return IntakeAnswer(200, Outcome.IGNORED, payload={"ok": True, "ignored": str(kind)})
                event_id = data.get("event_id")
                if not isinstance(event_id, str) or not event_id:
                    raise _Refusal(400, Outcome.MALFORMED, "event_callback without an event_id")
                return event_id
            case Source.GOOGLE:
                number = headers.get("x-goog-message-number")
                if not number:
                    raise _Refusal(400, Outcome.MALFORMED, "missing X-Goog-Message-Number")
                if headers.get("x-goog-resource-state") == "sync":
                    return IntakeAnswer(200, Outcome.HANDSHAKE, payload={"ok": True})
                return f"{headers.get('x-goog-channel-id')}:{number}"
            case Source.GRAPH | Source.GRAPH_LIFECYCLE:
                return graph_delivery_id(_graph_notifications(request.body))

    def _store_delivery(
        self, source: Source, connector: str, request: IntakeRequest
    ) -> IntakeAnswer | PendingDelivery:
        found = self._delivery_id(source, request)
        if isinstance(found, IntakeAnswer):
            return IntakeAnswer(
                found.status, found.outcome, found.detail, found.payload, found.text, connector
            )
        ok_status = 202 if source in (Source.GRAPH, Source.GRAPH_LIFECYCLE) else 200
        return PendingDelivery(
            source, connector, found, stored_headers(request.headers, connector), request.body, ok_status
        )


def _store_failed(pending: PendingDelivery, exc: Exception) -> IntakeAnswer:
    log.error(
        "webhook.store_failed", source=pending.source.value, delivery_id=pending.delivery_id, error=repr(exc)
    )
    return IntakeAnswer(
        503,
        Outcome.STORE_FAILED,
        "could not store the delivery; retry",
        connector=pending.connector,
        delivery_id=pending.delivery_id,
    )


_STORED_OUTCOMES = frozenset({Outcome.ACCEPTED, Outcome.DUPLICATE})


def stored_answer_json(answer: IntakeAnswer) -> bytes | None:
    """The JSON of a stored delivery's answer, rendered from a template; None for any other answer.

    Byte for byte ``json.dumps(answer.payload, ensure_ascii=False, separators=(",", ":"))``
    (what Starlette's ``JSONResponse`` sends) for the payload :func:`_stored` builds, in a
    tenth of the time: it is the answer to nearly every delivery.
    """
    if answer.outcome not in _STORED_OUTCOMES or answer.delivery_id is None:
        return None
    duplicate = b"true}" if answer.outcome == Outcome.DUPLICATE else b"false}"
    return b'{"ok":true,"delivery_id":' + encode_basestring(answer.delivery_id).encode() + b',"duplicate":' + duplicate


def _stored(pending: PendingDelivery, written: bool, received_log: Any) -> IntakeAnswer:
    outcome = Outcome.ACCEPTED if written else Outcome.DUPLICATE
    # Debug, not info: one line per delivery was 7.6% of the ingest profile; the
    # webhook_deliveries metric counts every outcome, and refusals/failures still log.
    received_log.debug(
        "webhook.received",
        source=pending.source.value,
        connector=pending.connector,
        delivery_id=pending.delivery_id,
        outcome=outcome,
    )
    return IntakeAnswer(
        pending.ok_status,
        outcome,
        payload={"ok": True, "delivery_id": pending.delivery_id, "duplicate": not written},
        connector=pending.connector,
        delivery_id=pending.delivery_id,
    )
