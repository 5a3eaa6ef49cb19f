"""Route registration shared by the Jira route modules: auth, both REST versions, JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.jira.errors import JiraApiError

if TYPE_CHECKING:
    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["Call", "Handler", "int_param", "json_body", "list_param", "platform_route", "route"]


@dataclass(frozen=True)
class Call:
    """What a handler gets: the request, the REST version (2 or 3; 1 for agile) and the caller."""

    request: Request
    api: int
    me: str

    @property
    def path(self) -> dict[str, str]:
        return dict(self.request.path_params)

    @property
    def query(self) -> Any:
        return self.request.query_params


Handler = Callable[[Call], Awaitable[Response | dict[str, Any] | list[Any] | None]]


def _respond(result: Response | dict[str, Any] | list[Any] | None) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    return JSONResponse(result)


def route(sim: JiraSimulator, method: str, path: str, handler: Handler, api: int) -> None:
    """Register ``handler`` at ``path`` behind basic auth."""

    async def endpoint(request: Request) -> Response:
        sim.observe_base_url(request)
        me = sim.authenticate(request)
        return _respond(await handler(Call(request, api, me)))

    endpoint.__name__ = f"{method.lower()}_{path}_{api}"
    sim.app.add_api_route(path, endpoint, methods=[method], include_in_schema=False)


def platform_route(sim: JiraSimulator, method: str, subpath: str, handler: Handler) -> None:
    """Register ``handler`` for REST v2 and v3 (``/rest/api/{2,3}/<subpath>``)."""
    for api in (2, 3):
        route(sim, method, f"/rest/api/{api}/{subpath}", handler, api)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise JiraApiError(400, f"Unexpected character in the request body: {exc}") from exc


def int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise JiraApiError(400, f"The value '{value}' is invalid for the parameter '{name}'.") from exc


def list_param(request: Request, name: str) -> list[str] | None:
    """A list query parameter: repeated and/or comma-separated; ``None`` when absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
