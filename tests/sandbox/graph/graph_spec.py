"""Validate sandbox exchanges against the operation schemas of Microsoft's Graph OpenAPI slices.

The slices (Dec 2022) describe ``/users/{user-id}/...``; ``/v1.0/me`` maps onto them, and
``calendarView/delta`` onto ``calendarView/microsoft.graph.delta()``. Two artefacts of the
generator are patched before use, both contradicted by real payloads and by the CSDL:
``additionalProperties: {type: object}`` (it would forbid ``@odata.etag`` strings) becomes
``true``, and nothing else is changed.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.vendor_specs import VENDOR_SPECS

SPECS = VENDOR_SPECS / "msgraph" / "openApiDocs-v1.0"
HOST = "https://graph.microsoft.com/v1.0"
_SERVED = {
    "/users/{user-id}/calendars",
    "/users/{user-id}/calendars/{calendar-id}",
    "/users/{user-id}/events",
    "/users/{user-id}/events/{event-id}",
    "/users/{user-id}/calendars/{calendar-id}/events",
    "/users/{user-id}/calendars/{calendar-id}/events/{event-id}",
    "/users/{user-id}/calendarView",
    "/users/{user-id}/calendars/{calendar-id}/calendarView",
    "/users/{user-id}/calendarView/microsoft.graph.delta()",
    "/users/{user-id}/calendars/{calendar-id}/calendarView/microsoft.graph.delta()",
    "/subscriptions",
    "/subscriptions/{subscription-id}",
}


def _relax(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("additionalProperties") == {"type": "object"}:
            node["additionalProperties"] = True
        for value in node.values():
            _relax(value)
    elif isinstance(node, list):
        for value in node:
            _relax(value)
    return node


@functools.cache
def spec(name: str) -> OpenAPI:
    with (SPECS / name).open() as fh:
        data = yaml.load(fh, Loader=yaml.CSafeLoader)
    data["servers"] = [{"url": HOST}]
    # The whole-document check fails on these slices (duplicate operation ids elsewhere): skip it,
    # validate per operation only; and keep just the paths the sandbox serves, for speed.
    data["paths"] = {p: op for p, op in data["paths"].items() if p in _SERVED}
    # OAuth2 security is checked by the sandbox itself; openapi-core cannot evaluate the oauth2 scheme.
    data.pop("security", None)
    return OpenAPI.from_dict(_relax(data), config=Config(spec_validator_cls=None))


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes | None
    content_type: str = "application/json"
    host_url: str = "https://graph.microsoft.com"
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, vs in self.query.items() for v in vs]),
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(),
        )


@dataclass
class _Response:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def _drop_nulls(node: Any) -> Any:
    # Graph sends null for absent complex values (recurrence, onlineMeeting); the CSDL declares them
    # nullable, but OpenAPI 3.0 cannot mark a $ref nullable, so nulls are dropped before validation.
    if isinstance(node, dict):
        return {k: _drop_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_drop_nulls(v) for v in node]
    return node


def spec_path(path: str, me_id: str) -> str:
    path = path.removeprefix("/v1.0")
    if path.startswith("/me"):
        path = f"/users/{me_id}" + path.removeprefix("/me")
    if path.endswith("/calendarView/delta"):
        path = path.removesuffix("/delta") + "/microsoft.graph.delta()"
    return path


def _spec_file(path: str) -> str:
    if path.startswith("/subscriptions"):
        return "ChangeNotifications.yml"
    if path.endswith("microsoft.graph.delta()"):
        return "Users.Functions.yml"
    return "Calendar.yml"


def validate_exchange(response: httpx.Response, me_id: str, *, response_too: bool = True) -> None:
    """Raise if the request, or the response (unless told not to), breaks its operation's schema."""
    request = response.request
    url = urlsplit(str(request.url))
    path = spec_path(url.path, me_id)
    # Graph's query names carry a '$' the spec also uses; only those the operation declares are checked.
    query = {k: v for k, v in parse_qs(url.query).items() if not k.startswith("$")}
    body = request.content or None
    ours = _Request(
        request.method.lower(),
        "/v1.0" + path,
        query,
        {k: v for k, v in request.headers.items()},
        body,
        request.headers.get("content-type", "application/json").split(";")[0],
    )
    api = spec(_spec_file(path))
    api.validate_request(ours)
    if response_too:
        content_type = response.headers.get("content-type", "application/json").split(";")[0]
        data = response.content or None
        if data is not None and content_type == "application/json":
            data = json.dumps(_drop_nulls(response.json())).encode()
        api.validate_response(
            ours, _Response(response.status_code, content_type, Headers(dict(response.headers)), data)
        )
