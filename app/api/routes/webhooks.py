"""Webhook intake routes, one per vendor: their OpenAPI documentation, and a fallback path.

Under the app :func:`app.api.create_app` builds, a ``POST`` to these paths never reaches
these functions: :class:`app.api.intake_asgi.HubApp` serves it before FastAPI's stack (the
ingest hot path). They stay registered so the intake is in the OpenAPI schema (and fuzzed
from it), and they answer exactly as the hot path does, through the same
:func:`~app.api.intake_asgi.answer_delivery`, should a request reach them (a plain FastAPI
app that includes this router; tests/api/test_webhook_fast_path.py compares the two).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.intake_asgi import DeliveryCounter, answer_delivery, encode_answer, query_of, too_large
from app.api.metrics import metrics_of
from app.webhooks.body import BodyTooLarge, read_limited
from app.webhooks.headers import Headers
from app.webhooks.service import WebhookService
from app.webhooks.sources import GRAPH_LIFECYCLE_ROUTE, ROUTES, Source

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


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


async def _receive(source: Source, request: Request) -> Response:
    service: WebhookService = request.app.state.webhooks
    counter = DeliveryCounter(metrics_of(request))
    headers = Headers.from_lower((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"])
    limit = service.hub.settings.webhooks.max_body_bytes
    try:
        body = await read_limited(headers.get("content-length"), request.stream(), limit)
    except BodyTooLarge as exc:
        answer = too_large(counter, source, exc)
    else:
        answer = await answer_delivery(service, counter, source, headers, body, query_of(request.scope))
    content_type, content = encode_answer(answer)
    return Response(content, status_code=answer.status, media_type=content_type.decode())


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
