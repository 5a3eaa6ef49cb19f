"""``/v1.0`` routes for users, calendars, events and ``calendarView`` (plain and delta).

Every route exists under ``/me`` and under ``/users/{id-or-upn}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.graph.delta import DeltaState, read_delta_page
from app.sandbox.graph.errors import GraphError
from app.sandbox.graph.model import Instance
from app.sandbox.graph.odata import expand_ids, preferences, top_skip
from app.sandbox.graph.payload import apply_changes, new_event
from app.sandbox.graph.store import CalendarFolder, Mailbox
from app.sandbox.graph.timezones import parse_graph_datetime

if TYPE_CHECKING:
    from app.sandbox.graph.simulator import GraphSimulator

__all__ = ["event_routes"]

READ = "read"
WRITE = "write"
_OWNERS = ("/v1.0/me", "/v1.0/users/{user_ref}")


def _user_json(user: Mailbox) -> dict[str, Any]:
    given, _, surname = user.display_name.partition(" ")
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "id": user.id,
        "displayName": user.display_name,
        "givenName": given,
        "surname": surname,
        "mail": user.upn,
        "userPrincipalName": user.upn,
        "businessPhones": [],
        "jobTitle": None,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
    }


def _calendar_json(folder: CalendarFolder, owner: Mailbox) -> dict[str, Any]:
    return {
        "id": folder.id,
        "name": folder.name,
        "color": "auto",
        "hexColor": "",
        "isDefaultCalendar": folder.is_default,
        "changeKey": f"cal{folder.version}",
        "canShare": True,
        "canViewPrivateItems": True,
        "canEdit": folder.can_edit,
        "isRemovable": not folder.is_default,
        "isTallyingResponses": True,
        "allowedOnlineMeetingProviders": ["teamsForBusiness"],
        "defaultOnlineMeetingProvider": "teamsForBusiness",
        "owner": {"name": owner.display_name, "address": owner.upn},
    }


def _window(request: Request) -> tuple[datetime, datetime]:
    start = request.query_params.get("startDateTime")
    end = request.query_params.get("endDateTime")
    if not start or not end:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the "
            "query string parameters StartDateTime and EndDateTime.",
        )
    try:
        window = (parse_graph_datetime({"dateTime": start}), parse_graph_datetime({"dateTime": end}))
    except ValueError as exc:
        raise GraphError(400, "ErrorInvalidParameter", f"Invalid time window: {exc}") from exc
    if window[1] <= window[0]:
        raise GraphError(400, "ErrorInvalidParameter", "EndDateTime must be after StartDateTime.")
    return window


def _check_if_match(request: Request, current: str) -> None:
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return
    presented = header.strip().removeprefix("W/").strip('"')
    if presented != current:
        raise GraphError(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed "
            "because the change key passed in the request does not match the current change key "
            "for the item.",
        )


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
    return body


def event_routes(sim: GraphSimulator) -> APIRouter:
    router = APIRouter()

    def route(method: str, suffix: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            for owner in _OWNERS:
                router.add_api_route(owner + suffix, fn, methods=[method])
            return fn

        return register

    def mailbox(request: Request, user_ref: str, need: str) -> Mailbox:
        sim.authorize(request, need)
        return sim.store.resolve_user(user_ref)

    def collection(
        request: Request,
        items: list[dict[str, Any]],
        top: int,
        skip: int,
        total: int,
        extra: dict[str, str] | None = None,
    ) -> JSONResponse:
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#events",
            "value": items,
        }
        if skip + top < total:
            params = dict(request.query_params)
            params.update({"$top": str(top), "$skip": str(skip + top)})
            body["@odata.nextLink"] = (
                f"{sim.public_base(request)}{request.url.path}?{urlencode(params, safe='$')}"
            )
        return JSONResponse(body, headers=extra)

    @route("GET", "")
    def get_user(request: Request, user_ref: str = "me") -> JSONResponse:
        sim.authorize(request, "user")
        with sim.lock:
            return JSONResponse(_user_json(sim.store.resolve_user(user_ref)))

    @route("GET", "/calendars")
    def list_calendars(request: Request, user_ref: str = "me") -> JSONResponse:
        with sim.lock:
            user = mailbox(request, user_ref, READ)
            items = [_calendar_json(c, user) for c in sim.store.user_calendars(user.id)]
        return JSONResponse(
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#calendars", "value": items}
        )

    @route("GET", "/calendars/{calendar_id}")
    def get_calendar(request: Request, calendar_id: str, user_ref: str = "me") -> JSONResponse:
        with sim.lock:
            user = mailbox(request, user_ref, READ)
            return JSONResponse(_calendar_json(sim.store.calendar(user.id, calendar_id), user))

    @route("GET", "/calendar")
    def get_default_calendar(request: Request, user_ref: str = "me") -> JSONResponse:
        with sim.lock:
            user = mailbox(request, user_ref, READ)
            return JSONResponse(_calendar_json(sim.store.default_calendar(user.id), user))

    def list_events(request: Request, user_ref: str, calendar_id: str | None) -> JSONResponse:
        top, skip = top_skip(request)
        prefs = preferences(request)
        expand = expand_ids(request)
        with sim.lock:
            user = mailbox(request, user_ref, READ)
            folder = (
                sim.store.calendar(user.id, calendar_id)
                if calendar_id
                else sim.store.default_calendar(user.id)
            )
            events = sim.store.live_events(folder.id)
            page = [
                e.instance().render(prefs.timezone, expand, prefs.body_type)
                for e in events[skip : skip + top]
            ]
            return collection(request, page, top, skip, len(events), prefs.applied(top))

    @route("GET", "/events")
    def list_default_events(request: Request, user_ref: str = "me") -> JSONResponse:
        return list_events(request, user_ref, None)

    @route("GET", "/calendars/{calendar_id}/events")
    def list_calendar_events(request: Request, calendar_id: str, user_ref: str = "me") -> JSONResponse:
        return list_events(request, user_ref, calendar_id)

    async def create_event(request: Request, user_ref: str, calendar_id: str | None) -> JSONResponse:
        body = await _json_body(request)
        prefs = preferences(request)
        with sim.lock:
            user = mailbox(request, user_ref, WRITE)
            folder = (
                sim.store.calendar(user.id, calendar_id)
                if calendar_id
                else sim.store.default_calendar(user.id)
            )
            existing = (
                sim.store.by_transaction(user.id, str(body["transactionId"]))
                if body.get("transactionId")
                else None
            )
            if existing is not None and not existing.deleted:
                # transactionId makes a retried create return the event it already made.
                return JSONResponse(
                    existing.instance().render(prefs.timezone, frozenset(), prefs.body_type), status_code=201
                )
            try:
                event = new_event(
                    sim.store.new_event_id(user.id), user.id, folder.id, body, (user.display_name, user.upn)
                )
            except ValueError as exc:
                raise GraphError(400, "ErrorInvalidRequest", str(exc)) from exc
            sim.store.insert(event)
            rendered = event.instance().render(prefs.timezone, frozenset(), prefs.body_type)
        return JSONResponse(rendered, status_code=201, headers={"Location": f"{request.url}/{event.id}"})

    @route("POST", "/events")
    async def create_default_event(request: Request, user_ref: str = "me") -> JSONResponse:
        return await create_event(request, user_ref, None)

    @route("POST", "/calendars/{calendar_id}/events")
    async def create_calendar_event(request: Request, calendar_id: str, user_ref: str = "me") -> JSONResponse:
        return await create_event(request, user_ref, calendar_id)

    def find(
        request: Request, user_ref: str, event_id: str, need: str, calendar_id: str | None = None
    ) -> Instance:
        user = mailbox(request, user_ref, need)
        inst = sim.store.find(user.id, event_id)
        if calendar_id is not None and inst.event.calendar_id != sim.store.calendar(user.id, calendar_id).id:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the sim.store.")
        return inst

    def get_event(
        request: Request, event_id: str, user_ref: str = "me", calendar_id: str | None = None
    ) -> JSONResponse:
        prefs = preferences(request)
        expand = expand_ids(request)
        with sim.lock:
            return JSONResponse(
                find(request, user_ref, event_id, READ, calendar_id).render(
                    prefs.timezone, expand, prefs.body_type
                )
            )

    async def patch_event(
        request: Request, event_id: str, user_ref: str = "me", calendar_id: str | None = None
    ) -> JSONResponse:
        body = await _json_body(request)
        prefs = preferences(request)
        with sim.lock:
            inst = find(request, user_ref, event_id, WRITE, calendar_id)
            _check_if_match(request, inst.change_key)
            try:
                if inst.day is None:
                    apply_changes(inst.event, body)
                    sim.store.touch(inst.event)
                    inst = inst.event.instance()
                else:
                    sim.edit_occurrence_from_json(inst, body)
                    inst = inst.event.occurrence(inst.day)
            except ValueError as exc:
                raise GraphError(400, "ErrorInvalidRequest", str(exc)) from exc
            return JSONResponse(inst.render(prefs.timezone, frozenset(), prefs.body_type))

    def delete_event(
        request: Request, event_id: str, user_ref: str = "me", calendar_id: str | None = None
    ) -> Response:
        with sim.lock:
            inst = find(request, user_ref, event_id, WRITE, calendar_id)
            _check_if_match(request, inst.change_key)
            if inst.day is None:
                sim.store.delete(inst.event)
            else:
                sim.store.cancel_occurrence(inst.event, inst.day)
        return Response(status_code=204)

    def cancel_event(request: Request, event_id: str, user_ref: str = "me") -> Response:
        with sim.lock:
            inst = find(request, user_ref, event_id, WRITE)
            if inst.day is None:
                inst.event.is_cancelled = True
                sim.store.touch(inst.event)
            else:
                sim.store.cancel_occurrence(inst.event, inst.day)
        return Response(status_code=202)

    for suffix in ("/events/{event_id}", "/calendars/{calendar_id}/events/{event_id}"):
        route("GET", suffix)(get_event)
        route("PATCH", suffix)(patch_event)
        route("DELETE", suffix)(delete_event)
    route("POST", "/events/{event_id}/cancel")(cancel_event)

    def calendar_view(request: Request, user_ref: str, calendar_id: str | None) -> JSONResponse:
        top, skip = top_skip(request)
        start, end = _window(request)
        prefs = preferences(request)
        expand = expand_ids(request)
        with sim.lock:
            user = mailbox(request, user_ref, READ)
            folder = (
                sim.store.calendar(user.id, calendar_id)
                if calendar_id
                else sim.store.default_calendar(user.id)
            )
            instances: list[Instance] = []
            for event in sim.store.live_events(folder.id):
                if event.is_series:
                    instances.extend(
                        i
                        for d in event.occurrences(start, end)
                        if d not in event.cancelled_dates and (i := event.occurrence(d)).overlaps(start, end)
                    )
                elif event.instance().overlaps(start, end):
                    instances.append(event.instance())
            instances.sort(key=lambda i: (i.start, i.id))
            page = [i.render(prefs.timezone, expand, prefs.body_type) for i in instances[skip : skip + top]]
            return collection(request, page, top, skip, len(instances), prefs.applied(top))

    @route("GET", "/calendarView")
    def default_calendar_view(request: Request, user_ref: str = "me") -> JSONResponse:
        return calendar_view(request, user_ref, None)

    @route("GET", "/calendars/{calendar_id}/calendarView")
    def folder_calendar_view(request: Request, calendar_id: str, user_ref: str = "me") -> JSONResponse:
        return calendar_view(request, user_ref, calendar_id)

    def delta(request: Request, user_ref: str, calendar_id: str | None) -> JSONResponse:
        prefs = preferences(request)
        page_size = prefs.page_size()
        expand = expand_ids(request)
        token = request.query_params.get("$skiptoken") or request.query_params.get("$deltatoken")
        with sim.lock:
            user = mailbox(request, user_ref, READ)
            folder = (
                sim.store.calendar(user.id, calendar_id)
                if calendar_id
                else sim.store.default_calendar(user.id)
            )
            if token:
                state = sim.tokens.decode(token, sim.store)
                if "$deltatoken" in request.query_params:
                    # A new round: it covers what changed up to now.
                    state = replace(state, high=sim.store.seq)
                if state.user_id != user.id or state.calendar_id != folder.id:
                    raise GraphError(410, "SyncStateNotFound", "The delta token belongs to another calendar.")
            else:
                start, end = _window(request)
                state = DeltaState(
                    user.id, folder.id, start, end, 0, sim.store.seq, (0, 0), sim.store.generation
                )
            page = read_delta_page(sim.store, state, page_size, prefs.timezone, expand, prefs.body_type)
            key = "$deltatoken" if page.finished else "$skiptoken"
            query = urlencode({key: sim.tokens.encode(page.next_state)}, safe="$")
            link = f"{sim.public_base(request)}{request.url.path}?{query}"
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
            "value": page.items,
            ("@odata.deltaLink" if page.finished else "@odata.nextLink"): link,
        }
        return JSONResponse(body, headers=prefs.applied(page_size))

    def default_delta(request: Request, user_ref: str = "me") -> JSONResponse:
        return delta(request, user_ref, None)

    def folder_delta(request: Request, calendar_id: str, user_ref: str = "me") -> JSONResponse:
        return delta(request, user_ref, calendar_id)

    for name in ("/delta", "/microsoft.graph.delta()"):
        route("GET", "/calendarView" + name)(default_delta)
        route("GET", "/calendar/calendarView" + name)(default_delta)
        route("GET", "/calendars/{calendar_id}/calendarView" + name)(folder_delta)
    return router
