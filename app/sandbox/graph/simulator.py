"""``GraphSimulator``: Microsoft Graph v1.0 (Outlook calendars) and the identity platform.

Mutations a user would make are available as methods (for tests and the team-activity
mode) and under ``/_sandbox/graph/...`` (see :mod:`app.sandbox.graph.admin`); they go
through the same store as the API, so they show up in delta rounds and notifications.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError

from app.sandbox.common.simulator import Simulator
from app.sandbox.graph.admin import admin_routes
from app.sandbox.graph.auth import SANDBOX_TENANT_ID, AppRegistration, IssuedToken, TokenIssuer
from app.sandbox.graph.delta import TokenCodec
from app.sandbox.graph.errors import GraphError, graph_error
from app.sandbox.graph.model import Instance, StoredEvent, split_occurrence_id
from app.sandbox.graph.payload import apply_changes, new_event
from app.sandbox.graph.routes_events import event_routes
from app.sandbox.graph.routes_subscriptions import subscription_routes
from app.sandbox.graph.seed import meeting_ical_uid, seed_store
from app.sandbox.graph.store import CalendarFolder, GraphStore, Mailbox
from app.sandbox.graph.subscriptions import SubscriptionRegistry
from app.sandbox.graph.timezones import parse_graph_datetime
from app.sandbox.world import TeamWorld

__all__ = ["GraphSimulator"]

_ERROR_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "ErrorAccessDenied",
    404: "ResourceNotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceNotAvailable",
    504: "GatewayTimeout",
}
_NEEDS = {
    "read": {"Calendars.Read", "Calendars.ReadWrite"},
    "write": {"Calendars.ReadWrite"},
    "user": {"User.Read.All", "User.ReadBasic.All", "Calendars.Read", "Calendars.ReadWrite"},
}


class GraphSimulator(Simulator):
    vendor = "graph"

    def __init__(self, world: TeamWorld | None = None, tenant_id: str = SANDBOX_TENANT_ID) -> None:
        self.tenant_id = tenant_id
        self.issuer = TokenIssuer(tenant_id)
        self.tokens = TokenCodec(secrets.token_bytes(16))
        self.webhook_verify: bool | str = True
        super().__init__(world)
        self.app.add_exception_handler(GraphError, self._graph_error)  # type: ignore[arg-type]
        self.app.add_exception_handler(RequestValidationError, self._validation_error)  # type: ignore[arg-type]
        self.app.include_router(self.issuer.router())
        self.app.include_router(event_routes(self))
        self.app.include_router(subscription_routes(self))
        self.app.include_router(admin_routes(self))

    # --- Simulator hooks ------------------------------------------------------------------
    def reset(self) -> None:
        self.store = GraphStore(self.tenant_id)
        seed_store(self.store, self.world)
        self.subscriptions = SubscriptionRegistry(self.store, self.webhooks, verify=self.webhook_verify)

    def error_body(self, status: int, message: str) -> Response:
        return graph_error(status, _ERROR_CODES.get(status, "UnknownError"), message)

    def unauthenticated(self) -> Response:
        return graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")

    def is_api_path(self, path: str) -> bool:
        return path.startswith("/v1.0")

    async def _graph_error(self, request: Request, exc: GraphError) -> Response:
        return graph_error(exc.status, exc.code, exc.message, exc.headers)

    async def _validation_error(self, request: Request, exc: RequestValidationError) -> Response:
        return graph_error(400, "BadRequest", f"Invalid request: {exc.errors()}")

    # --- used by the routes ---------------------------------------------------------------
    def authorize(self, request: Request, need: str) -> IssuedToken:
        token = self.issuer.check(request.headers.get("authorization"))
        if not token.roles & _NEEDS[need]:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        return token

    def public_base(self, request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def edit_occurrence_from_json(self, inst: Instance, body: dict[str, Any]) -> None:
        assert inst.day is not None
        changes: dict[str, Any] = {}
        if "subject" in body:
            changes["subject"] = str(body["subject"] or "")
        if "location" in body:
            changes["location"] = str((body["location"] or {}).get("displayName") or "")
        if "start" in body:
            changes["start"] = parse_graph_datetime(body["start"])
        if "end" in body:
            changes["end"] = parse_graph_datetime(body["end"])
        self.store.edit_occurrence(inst.event, inst.day, changes)

    # --- a user's actions, for tests and the team-activity mode ---------------------------
    def user(self, ref: str) -> Mailbox:
        """A mailbox by cast key (``po``), id, UPN or ``me``."""
        with self.lock:
            try:
                return self.store.user_by_key(ref)
            except StopIteration:
                return self.store.resolve_user(ref)

    def calendars(self, user_ref: str = "me") -> list[CalendarFolder]:
        with self.lock:
            return self.store.user_calendars(self.user(user_ref).id)

    def register_app(self, client_id: str, secret: str, roles: set[str] | frozenset[str]) -> None:
        self.issuer.register(AppRegistration(client_id, secret, frozenset(roles)))

    def meeting_ical_uid(self, slug: str) -> str:
        return meeting_ical_uid(self.world, slug)

    def create_event(
        self, user_ref: str, body: dict[str, Any], calendar_id: str | None = None
    ) -> dict[str, Any]:
        """Create an event as the user would in Outlook (fires notifications); returns its Graph JSON."""
        with self.lock:
            user = self.user(user_ref)
            folder = (
                self.store.calendar(user.id, calendar_id)
                if calendar_id
                else self.store.default_calendar(user.id)
            )
            event = new_event(
                self.store.new_event_id(user.id), user.id, folder.id, body, (user.display_name, user.upn)
            )
            self.store.insert(event)
            return event.instance().render(expand_ids=frozenset())

    def _instance(self, event_id: str) -> Instance:
        master_id, _ = split_occurrence_id(event_id)
        event = self.store.events.get(master_id)
        if event is None:
            raise GraphError(404, "ErrorItemNotFound", f"no event {event_id}")
        return self.store.find(event.user_id, event_id)

    def update_event(self, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Edit an event or one occurrence (making it an exception) with Graph JSON fields."""
        with self.lock:
            inst = self._instance(event_id)
            if inst.day is None:
                apply_changes(inst.event, changes)
                self.store.touch(inst.event)
                return inst.event.instance().render()
            self.edit_occurrence_from_json(inst, changes)
            return inst.event.occurrence(inst.day).render()

    def move_event(self, event_id: str, by: timedelta) -> dict[str, Any]:
        with self.lock:
            inst = self._instance(event_id)
            if inst.day is None:
                inst.event.start += by
                inst.event.end += by
                self.store.touch(inst.event)
                return inst.event.instance().render()
            self.store.edit_occurrence(inst.event, inst.day, {"start": inst.start + by, "end": inst.end + by})
            return inst.event.occurrence(inst.day).render()

    def cancel_event(self, event_id: str) -> None:
        """The organizer cancels: a single event shows ``isCancelled``; an occurrence disappears."""
        with self.lock:
            inst = self._instance(event_id)
            if inst.day is None:
                inst.event.is_cancelled = True
                self.store.touch(inst.event)
            else:
                self.store.cancel_occurrence(inst.event, inst.day)

    def delete_event(self, event_id: str) -> None:
        with self.lock:
            inst = self._instance(event_id)
            if inst.day is None:
                self.store.delete(inst.event)
            else:
                self.store.cancel_occurrence(inst.event, inst.day)

    def events_of(self, user_ref: str = "me", calendar_id: str | None = None) -> list[StoredEvent]:
        """The live stored events (singles and series masters) of a calendar."""
        with self.lock:
            user = self.user(user_ref)
            folder = (
                self.store.calendar(user.id, calendar_id)
                if calendar_id
                else self.store.default_calendar(user.id)
            )
            return self.store.live_events(folder.id)

    def expire_delta_tokens(self) -> None:
        with self.lock:
            self.store.expire_delta_tokens()

    def send_lifecycle(self, subscription_id: str, lifecycle_event: str) -> None:
        with self.lock:
            self.subscriptions.send_lifecycle(subscription_id, lifecycle_event)

    def revoke_tokens(self) -> None:
        self.issuer.revoke_all()
