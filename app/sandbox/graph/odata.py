"""Request options shared by the Graph routes: ``Prefer`` preferences, ``$expand``, paging."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request

from app.sandbox.graph.errors import GraphError
from app.sandbox.graph.timezones import zone

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Preferences", "expand_ids", "preferences", "top_skip"]

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000
_EXPAND = re.compile(r"singleValueExtendedProperties(\(\$filter=(?P<filter>.*)\))?$", re.I)
_ID_EQ = re.compile(r"id\s+eq\s+'([^']*)'", re.I)


@dataclass(frozen=True)
class Preferences:
    max_page_size: int | None
    timezone: str
    body_type: str = "html"

    def applied(self, page_size: int) -> dict[str, str]:
        """The ``Preference-Applied`` header Graph sends back."""
        parts = []
        if self.max_page_size is not None:
            parts.append(f"odata.maxpagesize={page_size}")
        if self.timezone != "UTC":
            parts.append(f'outlook.timezone="{self.timezone}"')
        if self.body_type != "html":
            parts.append(f'outlook.body-content-type="{self.body_type}"')
        return {"Preference-Applied": ", ".join(parts)} if parts else {}

    def page_size(self, default: int = DEFAULT_PAGE_SIZE) -> int:
        return min(self.max_page_size or default, MAX_PAGE_SIZE)


def preferences(request: Request) -> Preferences:
    size: int | None = None
    tz = "UTC"
    body_type = "html"
    for header in request.headers.getlist("prefer"):
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            value = value.strip().strip('"')
            if key.lower() == "odata.maxpagesize":
                try:
                    size = max(1, int(value))
                except ValueError as exc:
                    raise GraphError(400, "BadRequest", f"Invalid odata.maxpagesize '{value}'.") from exc
            elif key.lower() == "outlook.timezone":
                try:
                    zone(value)
                except ValueError as exc:
                    raise GraphError(
                        400,
                        "TimeZoneNotSupportedException",
                        f"A valid TimeZone value must be specified: '{value}'.",
                    ) from exc
                tz = value
            elif key.lower() == "outlook.body-content-type" and value.lower() in ("text", "html"):
                body_type = value.lower()
    return Preferences(size, tz, body_type)


def expand_ids(request: Request) -> frozenset[str] | None:
    """``None``: no expansion; empty: every extended property; otherwise the ids asked for (lower-cased)."""
    raw = request.query_params.get("$expand")
    if not raw:
        return None
    match = _EXPAND.match(raw.strip())
    if match is None:
        raise GraphError(
            400, "BadRequest", f"Parsing OData Select and Expand failed: '{raw}' is not supported."
        )
    if match.group("filter") is None:
        return frozenset()
    ids = _ID_EQ.findall(match.group("filter"))
    if not ids:
        raise GraphError(400, "BadRequest", "Only 'id eq ...' filters are supported on extended properties.")
    return frozenset(i.lower() for i in ids)


def top_skip(request: Request) -> tuple[int, int]:
    try:
        top = int(request.query_params.get("$top", DEFAULT_PAGE_SIZE))
        skip = int(request.query_params.get("$skip", 0))
    except ValueError as exc:
        raise GraphError(400, "BadRequest", "$top and $skip must be integers.") from exc
    if top < 1 or skip < 0:
        raise GraphError(400, "BadRequest", "$top must be positive and $skip not negative.")
    return min(top, MAX_PAGE_SIZE), skip
