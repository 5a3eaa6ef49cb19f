"""The Google Calendar v3 simulator: the API (both URL forms), OAuth token endpoint, push channels, admin.

Admin surface (besides the shared ``/_sandbox`` routes), each change made as the
calendar's owner and announced on the calendar's push channels:

- ``POST /_sandbox/events?calendar=<id>`` (an Event body): create an event;
- ``PATCH /_sandbox/events/<calendar>/<eventId>``: edit or move an event, a series, or one
  instance of a series (``<masterId>_<YYYYMMDDTHHMMSSZ>``: creates the exception);
- ``DELETE /_sandbox/events/<calendar>/<eventId>``: cancel an event or one instance;
- ``POST /_sandbox/expire-sync-tokens[?calendar=<id>]``: every sync token handed out so far
  answers 410 ``fullSyncRequired``;
- ``POST /_sandbox/expire-access-tokens``: every access token answers 401 (refresh still works);
- ``GET /_sandbox/channels``: the open push channels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.common.simulator import ADMIN_PREFIX, Simulator
from app.sandbox.google_calendar.auth import TokenAuthority
from app.sandbox.google_calendar.channels import ChannelHub
from app.sandbox.google_calendar.errors import GoogleApiError, error_payload, error_response
from app.sandbox.google_calendar.routes import api_router
from app.sandbox.google_calendar.seed import seed, team_calendar_id
from app.sandbox.google_calendar.store import EventStore
from app.sandbox.world import TeamWorld

__all__ = ["GoogleCalendarSimulator"]

_ERROR_REASONS = {401: "authError", 429: "rateLimitExceeded"}


class GoogleCalendarSimulator(Simulator):
    vendor = "google"

    def __init__(self, world: TeamWorld | None = None, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.auth = TokenAuthority(clock)
        super().__init__(world)
        self.app.add_exception_handler(GoogleApiError, self._api_error)  # type: ignore[arg-type]
        router = api_router(self)
        self.app.include_router(router, prefix="/calendar/v3")
        self.app.include_router(router)
        self._install_token_route()
        self._install_google_admin_routes()

    # --- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        self.store = EventStore(self.world.member("po").email, self._now, id_seed=f"{self.world.seed}:gcal")
        seed(self.store, self.world)
        self.channels = ChannelHub(self.webhooks, self.clock)
        self.store.listeners.append(self.channels.notify)
        self.auth = TokenAuthority(self.clock)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    @property
    def team_calendar(self) -> str:
        return team_calendar_id(self.world)

    @property
    def user_email(self) -> str:
        return self.store.user_email

    # --- direct mutations for tests (as the calendar's owner; push notifications fire) --------
    def create_event(self, calendar: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return dict(self.store.insert(calendar, body, self._owner_of(calendar), as_owner=True))

    def edit_event(self, calendar: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return dict(self.store.patch(calendar, event_id, changes, None, as_owner=True))

    def cancel_event(self, calendar: str, event_id: str) -> None:
        with self.lock:
            self.store.delete(calendar, event_id, None, as_owner=True)

    def event(self, calendar: str, event_id: str) -> dict[str, Any]:
        with self.lock:
            return dict(self.store.get(calendar, event_id))

    def expire_sync_tokens(self, calendar: str | None = None) -> None:
        with self.lock:
            targets = [self.store.calendar(calendar)] if calendar else list(self.store.calendars.values())
            for cal in targets:
                cal.sync_epoch += 1

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.auth.expire_access_tokens()

    def _owner_of(self, calendar: str) -> str:
        cal = self.store.calendar(calendar)
        return cal.id if cal.id in {m.email for m in self.world.members} else self.store.user_email

    # --- HTTP plumbing ----------------------------------------------------------------------
    def authorize(self, request: Request) -> None:
        self.auth.check(request.headers.get("authorization"))

    def error_body(self, status: int, message: str) -> Response:
        return JSONResponse(error_payload(status, message, _ERROR_REASONS.get(status)), status_code=status)

    def unauthenticated(self) -> Response:
        return error_response(
            GoogleApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential.",
                "authError",
            )
        )

    async def _api_error(self, request: Request, exc: GoogleApiError) -> Response:
        return error_response(exc)

    def _install_token_route(self) -> None:
        @self.app.post("/token")
        async def token(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            with self.lock:
                status, body = self.auth.grant(form)
            return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def _install_google_admin_routes(self) -> None:
        app = self.app

        @app.post(f"{ADMIN_PREFIX}/events")
        async def admin_create(request: Request, calendar: str) -> Response:
            body = await request.json()
            return JSONResponse(self.create_event(calendar, body))

        @app.patch(f"{ADMIN_PREFIX}/events/{{calendar}}/{{event_id}}")
        async def admin_edit(request: Request, calendar: str, event_id: str) -> Response:
            return JSONResponse(self.edit_event(calendar, event_id, await request.json()))

        @app.delete(f"{ADMIN_PREFIX}/events/{{calendar}}/{{event_id}}")
        async def admin_cancel(calendar: str, event_id: str) -> Response:
            self.cancel_event(calendar, event_id)
            return Response(status_code=204)

        @app.post(f"{ADMIN_PREFIX}/expire-sync-tokens")
        async def admin_expire_sync(calendar: str | None = None) -> dict[str, Any]:
            self.expire_sync_tokens(calendar)
            return {"ok": True}

        @app.post(f"{ADMIN_PREFIX}/expire-access-tokens")
        async def admin_expire_access() -> dict[str, Any]:
            self.expire_access_tokens()
            return {"ok": True}

        @app.get(f"{ADMIN_PREFIX}/channels")
        async def admin_channels() -> dict[str, Any]:
            with self.lock:
                return {
                    "channels": [
                        c.resource() | {"address": c.address, "calendarId": c.calendar_id}
                        for c in self.channels.channels.values()
                    ]
                }
