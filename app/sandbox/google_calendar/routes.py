"""The Calendar API v3 routes, mounted both under ``/calendar/v3`` and at the root.

Google's own base URL is ``https://www.googleapis.com/calendar/v3/``; a client built with
``client_options={"api_endpoint": URL}`` drops the ``calendar/v3/`` service path and calls
``URL/calendars/...``, so the simulator answers both forms.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.google_calendar.errors import GoogleApiError
from app.sandbox.google_calendar.fields import select_fields
from app.sandbox.google_calendar.listing import list_events, list_instances
from app.sandbox.google_calendar.params import integer, parse_list_params
from app.sandbox.google_calendar.tokens import PageToken

if TYPE_CHECKING:
    from app.sandbox.google_calendar.simulator import GoogleCalendarSimulator

__all__ = ["api_router"]


def _answer(request: Request, data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(select_fields(data, request.query_params.get("fields")), status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise GoogleApiError(400, "Parse Error", "parseError") from exc
    if not isinstance(data, dict):
        raise GoogleApiError(400, "Parse Error", "parseError")
    return data


def api_router(sim: GoogleCalendarSimulator) -> APIRouter:
    router = APIRouter()

    @router.get("/users/me/calendarList")
    async def calendar_list(request: Request) -> Response:
        sim.authorize(request)
        query = request.query_params
        size = min(integer(query, "maxResults", minimum=1) or 100, 250)
        with sim.lock:
            entries = [c.entry() for c in sim.store.calendars.values()]
        ranks = ["freeBusyReader", "reader", "writer", "owner"]
        minimum = query.get("minAccessRole")
        if minimum is not None:
            if minimum not in [*ranks, "writerWithoutPrivateAccess"]:
                raise GoogleApiError(400, "Invalid value for: minAccessRole", "invalidParameter")
            floor = ranks.index("writer" if minimum == "writerWithoutPrivateAccess" else minimum)
            entries = [e for e in entries if ranks.index(e["accessRole"]) >= floor]
        offset = PageToken.decode(query["pageToken"], "calendarList").after if "pageToken" in query else 0
        body: dict[str, Any] = {
            "kind": "calendar#calendarList",
            "etag": '"p33sandboxlist"',
            "items": entries[offset : offset + size],
        }
        if offset + size < len(entries):
            body["nextPageToken"] = PageToken("calendarList", offset + size).encode()
        else:
            body["nextSyncToken"] = "sandbox-calendar-list"
        return _answer(request, body)

    @router.get("/users/me/calendarList/{calendar_id}")
    async def calendar_list_entry(request: Request, calendar_id: str) -> Response:
        sim.authorize(request)
        with sim.lock:
            return _answer(request, sim.store.calendar(calendar_id).entry())

    @router.get("/calendars/{calendar_id}")
    async def calendar_get(request: Request, calendar_id: str) -> Response:
        sim.authorize(request)
        with sim.lock:
            cal = sim.store.calendar(calendar_id)
        return _answer(
            request,
            {
                "kind": "calendar#calendar",
                "etag": cal.entry()["etag"],
                "id": cal.id,
                "summary": cal.summary,
                "description": cal.description,
                "timeZone": cal.time_zone,
            },
        )

    @router.get("/calendars/{calendar_id}/events")
    async def events_list(request: Request, calendar_id: str) -> Response:
        sim.authorize(request)
        params = parse_list_params(request.query_params)
        with sim.lock:
            cal = sim.store.calendar(calendar_id)
            body = list_events(cal, params, sim.store.seq, sim.store.now())
        return _answer(request, body)

    @router.post("/calendars/{calendar_id}/events")
    async def events_insert(request: Request, calendar_id: str) -> Response:
        sim.authorize(request)
        body = await _json_body(request)
        with sim.lock:
            created = sim.store.insert(calendar_id, body, sim.store.user_email)
        return _answer(request, created)

    @router.post("/calendars/{calendar_id}/events/watch")
    async def events_watch(request: Request, calendar_id: str) -> Response:
        sim.authorize(request)
        parse_list_params(request.query_params)
        body = await _json_body(request)
        with sim.lock:
            cal = sim.store.calendar(calendar_id)
            channel = sim.channels.watch(cal.id, body)
        return _answer(request, channel)

    @router.get("/calendars/{calendar_id}/events/{event_id}")
    async def events_get(request: Request, calendar_id: str, event_id: str) -> Response:
        sim.authorize(request)
        with sim.lock:
            event = sim.store.get(calendar_id, event_id)
        if request.headers.get("if-none-match") == event.get("etag"):
            return Response(status_code=304)
        return _answer(request, event)

    @router.get("/calendars/{calendar_id}/events/{event_id}/instances")
    async def events_instances(request: Request, calendar_id: str, event_id: str) -> Response:
        sim.authorize(request)
        params = parse_list_params(request.query_params)
        with sim.lock:
            cal = sim.store.calendar(calendar_id)
            master = cal.events.get(event_id)
            if master is None:
                raise GoogleApiError(404, "Not Found", "notFound")
            body = list_instances(cal, master, params, sim.store.now())
        return _answer(request, body)

    @router.patch("/calendars/{calendar_id}/events/{event_id}")
    async def events_patch(request: Request, calendar_id: str, event_id: str) -> Response:
        sim.authorize(request)
        body = await _json_body(request)
        with sim.lock:
            event = sim.store.patch(calendar_id, event_id, body, request.headers.get("if-match"))
        return _answer(request, event)

    @router.put("/calendars/{calendar_id}/events/{event_id}")
    async def events_update(request: Request, calendar_id: str, event_id: str) -> Response:
        sim.authorize(request)
        body = await _json_body(request)
        with sim.lock:
            event = sim.store.patch(
                calendar_id, event_id, body, request.headers.get("if-match"), replace=True
            )
        return _answer(request, event)

    @router.delete("/calendars/{calendar_id}/events/{event_id}")
    async def events_delete(request: Request, calendar_id: str, event_id: str) -> Response:
        sim.authorize(request)
        with sim.lock:
            sim.store.delete(calendar_id, event_id, request.headers.get("if-match"))
        return Response(status_code=204)

    @router.post("/channels/stop")
    async def channels_stop(request: Request) -> Response:
        sim.authorize(request)
        body = await _json_body(request)
        with sim.lock:
            sim.channels.stop(body)
        return Response(status_code=204)

    return router
