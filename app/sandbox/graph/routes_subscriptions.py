"""``/v1.0/subscriptions``: create (with the validation handshake), list, get, renew, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.graph.errors import GraphError

if TYPE_CHECKING:
    from app.sandbox.graph.simulator import GraphSimulator

__all__ = ["subscription_routes"]


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from exc
    if not isinstance(body, dict):
        raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
    return body


def subscription_routes(sim: GraphSimulator) -> APIRouter:
    router = APIRouter()

    @router.post("/v1.0/subscriptions")
    async def create(request: Request) -> JSONResponse:
        token = sim.authorize(request, "read")
        body = await _body(request)
        # The handshake runs outside the lock: the receiver may call back into the sandbox.
        sub = await sim.subscriptions.create(body, token.client_id)
        return JSONResponse(sub.to_json(), status_code=201)

    @router.get("/v1.0/subscriptions")
    def list_all(request: Request) -> JSONResponse:
        token = sim.authorize(request, "read")
        with sim.lock:
            items = [
                s.to_json()
                for s in sim.subscriptions.subscriptions.values()
                if s.application_id == token.client_id
            ]
        for item in items:
            item.pop("@odata.context", None)
        return JSONResponse(
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions", "value": items}
        )

    @router.get("/v1.0/subscriptions/{sub_id}")
    def get_one(request: Request, sub_id: str) -> JSONResponse:
        sim.authorize(request, "read")
        with sim.lock:
            return JSONResponse(sim.subscriptions.get(sub_id).to_json())

    @router.patch("/v1.0/subscriptions/{sub_id}")
    async def renew(request: Request, sub_id: str) -> JSONResponse:
        sim.authorize(request, "read")
        body = await _body(request)
        with sim.lock:
            return JSONResponse(sim.subscriptions.renew(sub_id, body).to_json())

    @router.delete("/v1.0/subscriptions/{sub_id}")
    def delete(request: Request, sub_id: str) -> Response:
        sim.authorize(request, "read")
        with sim.lock:
            sim.subscriptions.delete(sub_id)
        return Response(status_code=204)

    return router
