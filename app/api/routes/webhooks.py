"""Webhook intake routes, one per vendor: read the raw body (size-limited), hand it to the intake.

The handlers are ``async`` because the body is streamed with a limit; the intake itself
(store reads, the durable inbox write) runs in a worker thread so the event loop never
blocks on SQLite. The answer goes out only after the delivery is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.api.metrics import HubMetrics, metrics_of
from app.webhooks.body import BodyTooLarge, read_limited
from app.webhooks.headers import Headers
from app.webhooks.intake import IntakeAnswer, IntakeRequest, Outcome
from app.webhooks.service import WebhookService
from app.webhooks.sources import GRAPH_LIFECYCLE_ROUTE, ROUTES, Source

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


# Both dependencies are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool,
# and two extra thread hops per delivery cost more than the attribute lookups they guard.
async def get_webhooks(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


async def _metrics(request: Request) -> HubMetrics:
    return metrics_of(request)


WebhooksDep = Annotated[WebhookService, Depends(get_webhooks)]
MetricsDep = Annotated[HubMetrics, Depends(_metrics)]

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


async def _receive(
    source: Source, request: Request, service: WebhookService, metrics: HubMetrics
) -> Response:
    limit = service.hub.settings.webhooks.max_body_bytes
    vendor = "graph" if source is Source.GRAPH_LIFECYCLE else source.value
    try:
        body = await read_limited(request.headers.get("content-length"), request.stream(), limit)
    except BodyTooLarge as exc:
        metrics.webhook_deliveries.labels(vendor, Outcome.TOO_LARGE).inc()
        return JSONResponse({"detail": str(exc)}, status_code=413)
    delivery = IntakeRequest(Headers(request.headers.items()), body, dict(request.query_params))
    answer = await anyio.to_thread.run_sync(service.intake.receive, source, delivery)
    metrics.webhook_deliveries.labels(vendor, answer.outcome).inc()
    if answer.outcome == Outcome.ACCEPTED:
        service.processor.notify()
    return _response(answer)


@router.post(ROUTES["jira"], responses={200: _ACK, **_COMMON})
async def jira(request: Request, service: WebhooksDep, metrics: MetricsDep) -> Response:
    """Jira admin webhook (``X-Hub-Signature``); deduped on ``X-Atlassian-Webhook-Identifier``."""
    return await _receive(Source.JIRA, request, service, metrics)


@router.post(ROUTES["slack"], responses={200: _ACK, **_COMMON})
async def slack_events(request: Request, service: WebhooksDep, metrics: MetricsDep) -> Response:
    """Slack Events API (signed, 5-minute window); answers ``url_verification``; deduped on ``event_id``."""
    return await _receive(Source.SLACK, request, service, metrics)


@router.post(
    ROUTES["google_calendar"],
    responses={200: _ACK, 403: {"description": "not a channel the hub opened", **_ERROR}, **_COMMON},
)
async def google_calendar(request: Request, service: WebhooksDep, metrics: MetricsDep) -> Response:
    """Google Calendar push notification (headers only); deduped on channel id + message number."""
    return await _receive(Source.GOOGLE, request, service, metrics)


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
async def microsoft_graph(request: Request, service: WebhooksDep, metrics: MetricsDep) -> Response:
    """Microsoft Graph change notifications (``clientState``); answers ``?validationToken=``."""
    return await _receive(Source.GRAPH, request, service, metrics)


@router.post(GRAPH_LIFECYCLE_ROUTE, responses=_GRAPH_RESPONSES)
async def microsoft_graph_lifecycle(request: Request, service: WebhooksDep, metrics: MetricsDep) -> Response:
    """Graph lifecycle notifications: ``subscriptionRemoved``, ``reauthorizationRequired``, ``missed``."""
    return await _receive(Source.GRAPH_LIFECYCLE, request, service, metrics)
