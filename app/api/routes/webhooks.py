"""Webhook intake routes, one per vendor: read the raw body (size-limited), hand it to the intake.

The handlers are ``async`` because the body is streamed with a limit. Checks that read the
store run in a worker thread; the durable inbox write goes through the intake's group-commit
writer (one transaction for the deliveries that arrive together, in a worker thread), so
the event loop never blocks on the database. The answer goes out only after the delivery
is stored.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.api.metrics import metrics_of
from app.webhooks.body import BodyTooLarge, read_limited
from app.webhooks.headers import Headers
from app.webhooks.intake import IntakeAnswer, IntakeRequest, Outcome
from app.webhooks.service import WebhookService
from app.webhooks.sources import GRAPH_LIFECYCLE_ROUTE, ROUTES, Source

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


# No FastAPI dependencies on the intake routes: resolving them cost ~8 % of an ingest profile,
# more than the two attribute lookups they stand for.
def _service(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


_ERROR = {
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
        }
    }
}
_COMMON: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed delivery", **_ERROR},
    401: {"description": "verification failed (signature, timestamp, token, clientState)", **_ERROR},
    404: {"description": "no connector of this vendor is configured", **_ERROR},
    413: {"description": "body larger than webhooks.max_body_bytes", **_ERROR},
    503: {"description": "the delivery could not be stored; retry", **_ERROR},
}
_ACK = {
    "description": "stored (or a duplicate of a stored delivery), or a handshake answered",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


def _response(answer: IntakeAnswer) -> Response:
    if answer.text is not None:
        return PlainTextResponse(answer.text, status_code=answer.status)
    if answer.status >= 400:
        return JSONResponse({"detail": answer.detail or answer.outcome}, status_code=answer.status)
    return JSONResponse(answer.payload or {"ok": True}, status_code=answer.status)


async def _receive(source: Source, request: Request) -> Response:
    service, metrics = _service(request), metrics_of(request)
    limit = service.hub.settings.webhooks.max_body_bytes
    vendor = "graph" if source is Source.GRAPH_LIFECYCLE else source.value
    # ASGI header names are already lower-case bytes: no need for Starlette's Headers view.
    headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"])
    try:
        body = await read_limited(headers.get("content-length"), request.stream(), limit)
    except BodyTooLarge as exc:
        metrics.webhook_deliveries.labels(vendor, Outcome.TOO_LARGE).inc()
        return JSONResponse({"detail": str(exc)}, status_code=413)
    query = dict(request.query_params) if request.scope.get("query_string") else {}
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
    metrics.webhook_deliveries.labels(vendor, answer.outcome).inc()
    if answer.outcome == Outcome.ACCEPTED:
        service.processor.notify()
    return _response(answer)


@router.post(ROUTES["jira"], responses={200: _ACK, **_COMMON})
async def jira(request: Request) -> Response:
    """Jira admin webhook (``X-Hub-Signature``); deduped on ``X-Atlassian-Webhook-Identifier``."""
    return await _receive(Source.JIRA, request)


@router.post(ROUTES["slack"], responses={200: _ACK, **_COMMON})
async def slack_events(request: Request) -> Response:
    """Slack Events API (signed, 5-minute window); answers ``url_verification``; deduped on ``event_id``."""
    return await _receive(Source.SLACK, request)


@router.post(
    ROUTES["google_calendar"],
    responses={200: _ACK, 403: {"description": "not a channel the hub opened", **_ERROR}, **_COMMON},
)
async def google_calendar(request: Request) -> Response:
    """Google Calendar push notification (headers only); deduped on channel id + message number."""
    return await _receive(Source.GOOGLE, request)


_GRAPH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "validation handshake: the decoded validationToken",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    202: _ACK,
    403: {"description": "not a subscription the hub holds", **_ERROR},
    **_COMMON,
}


@router.post(ROUTES["outlook"], responses=_GRAPH_RESPONSES)
async def microsoft_graph(request: Request) -> Response:
    """Microsoft Graph change notifications (``clientState``); answers ``?validationToken=``."""
    return await _receive(Source.GRAPH, request)


@router.post(GRAPH_LIFECYCLE_ROUTE, responses=_GRAPH_RESPONSES)
async def microsoft_graph_lifecycle(request: Request) -> Response:
    """Graph lifecycle notifications: ``subscriptionRemoved``, ``reauthorizationRequired``, ``missed``."""
    return await _receive(Source.GRAPH_LIFECYCLE, request)
