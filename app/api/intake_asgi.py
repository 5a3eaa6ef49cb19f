"""The webhook intake's hot path: ``POST`` on the intake paths served on raw ASGI, before FastAPI.

Ingest is the one load the hub takes from outside at vendor pace, and FastAPI's per-request
machinery cost more than the intake itself there (route matching behind every API route,
``solve_dependencies`` even for a bare ``Request`` parameter, the response classes: ~43 % of
the event loop in an ingest profile against ~16 % for HMAC, JSON and batching). So a POST to
one of the exact intake paths is answered here (:class:`HubApp`), before any of FastAPI's
layers; everything else (other methods, other paths, a trailing slash) goes to FastAPI
untouched. The FastAPI routes in :mod:`app.api.routes.webhooks` stay registered: they
document the intake in OpenAPI and answer the same way, through :func:`answer_delivery`,
should a request reach them.

What a delivery gets is the same either way: the body limit (413 on ``Content-Length`` or
while reading), the intake's checks in order (:mod:`app.webhooks.intake`), the Graph
``validationToken`` echo as ``text/plain``, 4xx/5xx with ``{"detail": ...}``, the
``passerelle_webhook_deliveries`` counter, ``processor.notify()`` for a stored delivery, and
an answer only once the transaction holding the delivery committed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from fastapi import FastAPI
from prometheus_client import Counter
from starlette.datastructures import State
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from app.api.metrics import HubMetrics, metrics_of
from app.webhooks.body import BodyTooLarge, ClientDisconnected, receive_limited
from app.webhooks.headers import Headers
from app.webhooks.intake import IntakeAnswer, IntakeRequest, Outcome, stored_answer_json
from app.webhooks.service import WebhookService
from app.webhooks.sources import GRAPH_LIFECYCLE_ROUTE, ROUTES, Source

__all__ = [
    "INTAKE_PATHS",
    "DeliveryCounter",
    "HubApp",
    "WebhookIntakeASGI",
    "answer_delivery",
    "encode_answer",
    "query_of",
    "too_large",
]

INTAKE_PATHS: dict[str, Source] = {
    ROUTES["jira"]: Source.JIRA,
    ROUTES["slack"]: Source.SLACK,
    ROUTES["google_calendar"]: Source.GOOGLE,
    ROUTES["outlook"]: Source.GRAPH,
    GRAPH_LIFECYCLE_ROUTE: Source.GRAPH_LIFECYCLE,
}
"""The exact paths served on the hot path, and the source each one is."""

_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"


class DeliveryCounter:
    """``passerelle_webhook_deliveries`` with its children kept: ``labels()`` locks and hashes per call."""

    def __init__(self, metrics: HubMetrics) -> None:
        self.metrics = metrics
        self._children: dict[tuple[str, str], Counter] = {}

    def count(self, source: Source, outcome: str) -> None:
        key = (source.value, outcome)
        child = self._children.get(key)
        if child is None:
            vendor = "graph" if source is Source.GRAPH_LIFECYCLE else source.value
            child = self._children[key] = self.metrics.webhook_deliveries.labels(vendor, outcome)
        child.inc()


async def answer_delivery(
    service: WebhookService,
    counter: DeliveryCounter,
    source: Source,
    headers: Headers,
    body: bytes,
    query: dict[str, str],
) -> IntakeAnswer:
    """Check a delivery that was read in full, store it (group commit), count it, wake the processor."""
    delivery = IntakeRequest(headers, body, query)
    intake = service.intake
    # Slack and Jira are checked on the loop (HMAC and JSON: microseconds, cheaper than a
    # thread hop); Google and Graph read subscription rows, so they go to a worker thread.
    if intake.prepare_blocks(source):
        prepared = await anyio.to_thread.run_sync(intake.prepare, source, delivery)
    else:
        prepared = intake.prepare(source, delivery)
    # Group commit: the answer waits for the transaction that holds this delivery.
    answer = prepared if isinstance(prepared, IntakeAnswer) else await intake.store(prepared)
    counter.count(source, answer.outcome)
    if answer.outcome == Outcome.ACCEPTED:
        service.processor.notify()
    return answer


def too_large(counter: DeliveryCounter, source: Source, exc: BodyTooLarge) -> IntakeAnswer:
    counter.count(source, Outcome.TOO_LARGE)
    return IntakeAnswer(413, Outcome.TOO_LARGE, str(exc))


def _json(data: dict[str, Any]) -> bytes:
    # Byte for byte what Starlette's JSONResponse renders.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def encode_answer(answer: IntakeAnswer) -> tuple[bytes, bytes]:
    """The answer's content type and body."""
    if answer.text is not None:
        return _TEXT, answer.text.encode()
    if answer.status >= 400:
        return _JSON, _json({"detail": answer.detail or answer.outcome})
    stored = stored_answer_json(answer)
    if stored is not None:
        return _JSON, stored
    return _JSON, _json(answer.payload or {"ok": True})


def query_of(scope: Scope) -> dict[str, str]:
    """The query string as Starlette's ``dict(request.query_params)`` reads it (last value wins)."""
    raw: bytes = scope.get("query_string", b"")
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}


def _route_path(scope: Scope) -> str:
    """The path the router would match (``root_path`` stripped, as Starlette does)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


class WebhookIntakeASGI:
    """Serves one intake ``POST`` on the raw ASGI interface.

    ``state`` is the FastAPI app's state: the lifespan (or a test) puts the running
    :class:`~app.webhooks.service.WebhookService` on it as ``webhooks``.
    """

    def __init__(self, state: State) -> None:
        self._state = state
        self._counter: DeliveryCounter | None = None

    def _delivery_counter(self, scope: Scope) -> DeliveryCounter:
        counter = self._counter
        if counter is None or counter.metrics.hub is None:
            # First delivery, or the hub was not attached yet: resolve as the API routes do.
            counter = self._counter = DeliveryCounter(metrics_of(Request(scope)))
        return counter

    async def serve(self, source: Source, scope: Scope, receive: Receive, send: Send) -> None:
        service: WebhookService = self._state.webhooks
        counter = self._delivery_counter(scope)
        # ASGI header names are lower-case already (the intake's Headers needs no lowering).
        headers = Headers.from_lower((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        try:
            limit = service.hub.settings.webhooks.max_body_bytes
            body = await receive_limited(headers.get("content-length"), receive, limit)
        except BodyTooLarge as exc:
            answer = too_large(counter, source, exc)
        except ClientDisconnected:
            return  # nobody to answer; nothing was verified or stored
        else:
            answer = await answer_delivery(service, counter, source, headers, body, query_of(scope))
        content_type, content = encode_answer(answer)
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(b"content-length", str(len(content)).encode()), (b"content-type", content_type)],
            }
        )
        await send({"type": "http.response.body", "body": content})


class HubApp(FastAPI):
    """The hub's FastAPI app; a ``POST`` to an intake path is served before FastAPI's own stack.

    Checked first thing in ``__call__``: the framework's per-request layers (telemetry
    check, error and body-limit middleware, the router) are skipped for the one request
    that comes at vendor pace. An unexpected exception still becomes a 500 (uvicorn
    answers it and logs the traceback).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.webhook_intake = WebhookIntakeASGI(self.state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            source = INTAKE_PATHS.get(_route_path(scope))
            if source is not None:
                scope["app"] = self  # as Starlette sets it: what metrics_of(Request) reads
                await self.webhook_intake.serve(source, scope, receive, send)
                return
        await super().__call__(scope, receive, send)
