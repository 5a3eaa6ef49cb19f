"""``/_sandbox/graph/...``: what a user or an admin does in Outlook, over HTTP.

- ``POST   /_sandbox/graph/users/{user}/events``      create an event as that user (body: Graph event JSON)
- ``PATCH  /_sandbox/graph/events/{id}``              edit (Graph JSON; an occurrence becomes an exception)
- ``POST   /_sandbox/graph/events/{id}/move``         ``{"minutes": 30}``
- ``POST   /_sandbox/graph/events/{id}/cancel``       organizer cancels
- ``DELETE /_sandbox/graph/events/{id}``
- ``GET    /_sandbox/graph/users/{user}/events``      stored events (ids, subjects, changeKeys)
- ``POST   /_sandbox/graph/delta/expire``             every outstanding delta token answers 410
- ``POST   /_sandbox/graph/tokens/revoke``            every issued access token becomes invalid
- ``GET    /_sandbox/graph/subscriptions``            the live subscriptions
- ``POST   /_sandbox/graph/subscriptions/{id}/lifecycle``  ``{"lifecycleEvent": "missed"}``
- ``GET    /_sandbox/graph/meetings``                 the team meetings and their iCalUIds
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from app.sandbox.graph.seed import outlook_meetings

if TYPE_CHECKING:
    from app.sandbox.graph.simulator import GraphSimulator

__all__ = ["admin_routes"]


def admin_routes(sim: GraphSimulator) -> APIRouter:
    router = APIRouter(prefix="/_sandbox/graph")

    @router.post("/users/{user}/events", status_code=201)
    async def create(user: str, request: Request, calendar_id: str | None = None) -> dict[str, Any]:
        return sim.create_event(user, await request.json(), calendar_id)

    @router.patch("/events/{event_id}")
    async def edit(event_id: str, request: Request) -> dict[str, Any]:
        return sim.update_event(event_id, await request.json())

    @router.post("/events/{event_id}/move")
    async def move(event_id: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        return sim.move_event(event_id, timedelta(minutes=float(body.get("minutes", 30))))

    @router.post("/events/{event_id}/cancel")
    def cancel(event_id: str) -> dict[str, Any]:
        sim.cancel_event(event_id)
        return {"ok": True}

    @router.delete("/events/{event_id}")
    def delete(event_id: str) -> dict[str, Any]:
        sim.delete_event(event_id)
        return {"ok": True}

    @router.get("/users/{user}/events")
    def stored(user: str, calendar_id: str | None = None) -> dict[str, Any]:
        events = sim.events_of(user, calendar_id)
        return {
            "events": [
                {
                    "id": e.id,
                    "subject": e.subject,
                    "changeKey": e.change_key,
                    "series": e.is_series,
                    "iCalUId": e.ical_uid,
                }
                for e in events
            ]
        }

    @router.post("/delta/expire")
    def expire() -> dict[str, Any]:
        sim.expire_delta_tokens()
        return {"ok": True, "generation": sim.store.generation}

    @router.post("/tokens/revoke")
    def revoke() -> dict[str, Any]:
        sim.revoke_tokens()
        return {"ok": True}

    @router.get("/subscriptions")
    def subscriptions() -> dict[str, Any]:
        with sim.lock:
            return {"subscriptions": [s.to_json() for s in sim.subscriptions.subscriptions.values()]}

    @router.post("/subscriptions/{sub_id}/lifecycle")
    async def lifecycle(sub_id: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        sim.send_lifecycle(sub_id, str(body.get("lifecycleEvent", "")))
        return {"ok": True}

    @router.get("/meetings")
    def meetings() -> dict[str, Any]:
        return {
            "meetings": [
                {"key": m.key, "title": m.title, "iCalUId": m.ical_uid} for m in outlook_meetings(sim.world)
            ]
        }

    return router
