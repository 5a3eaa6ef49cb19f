"""HTTP details shared by the v1 and v2 routes: query parsing, error shapes, cursor links."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse

from app.sandbox.confluence.model import WikiError

__all__ = [
    "API_FAMILY",
    "base_url",
    "error_response",
    "int_param",
    "list_param",
    "next_link",
    "paged_response",
]

API_FAMILY: ContextVar[str] = ContextVar("confluence_api_family", default="v2")
"""``v1`` or ``v2``: which error shape the request being served expects."""

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def error_response(
    status: int, message: str, code: str | None = None, family: str | None = None
) -> JSONResponse:
    """Confluence's error body: v2 ``{"errors": [...]}``, v1 ``{"statusCode", "data", "message"}``."""
    family = family or API_FAMILY.get()
    if family == "v1":
        body: dict[str, Any] = {
            "statusCode": status,
            "data": {
                "authorized": status not in (401, 403),
                "valid": status != 400,
                "errors": [],
                "successful": False,
            },
            "message": message,
        }
    else:
        title = message if status == 409 else _TITLES.get(status, "Error")
        body = {
            "errors": [
                {
                    "status": status,
                    "code": code or WikiError(status, "").code,
                    "title": title,
                    "detail": None if status == 409 else message,
                }
            ]
        }
    return JSONResponse(body, status_code=status)


def list_param(request: Request, name: str) -> list[str]:
    """A list parameter given repeated (``a=1&a=2``) or comma-separated (``a=1,2``), as Confluence accepts."""
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        out.extend(v for v in raw.split(",") if v)
    return out


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WikiError(400, f"'{name}' must be an integer, got '{raw}'") from None
    if not low <= value <= high:
        raise WikiError(400, f"'{name}' must be between {low} and {high}, got {value}")
    return value


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/wiki"


def next_link(request: Request, cursor: str, list_names: Sequence[str] = ()) -> str:
    """The relative URL of the next page: the same query with ``cursor`` replaced.

    List parameters are re-emitted comma-joined, so a client that reads the link's query
    into a dict (as atlassian-python-api does) keeps every value.
    """
    params: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, value in request.query_params.multi_items():
        if key == "cursor" or key in seen:
            continue
        if key in list_names:
            seen.add(key)
            params.append((key, ",".join(list_param(request, key))))
        else:
            params.append((key, value))
    params.append(("cursor", cursor))
    return f"{request.url.path}?{urlencode(params, safe=',')}"


def paged_response(
    request: Request, results: list[dict[str, Any]], cursor: str | None, list_names: Sequence[str] = ()
) -> JSONResponse:
    """A v2 multi-entity result: ``_links.next`` and the ``Link`` header carry the same next URL."""
    base = base_url(request)
    links: dict[str, str] = {"base": base}
    headers: dict[str, str] = {}
    if cursor is not None:
        nxt = next_link(request, cursor, list_names)
        links["next"] = nxt
        headers["Link"] = f'<{nxt}>; rel="next", <{base}>; rel="base"'
    return JSONResponse({"results": results, "_links": links}, headers=headers)


def v1_query(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None}, safe=",")
