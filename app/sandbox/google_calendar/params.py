"""Typed query parameters of the methods the simulator serves, refused with Google's 400s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.datastructures import QueryParams

from app.sandbox.google_calendar.errors import GoogleApiError
from app.sandbox.google_calendar.model import parse_rfc3339

__all__ = ["ListParams", "boolean", "integer", "parse_list_params"]

MAX_PAGE_SIZE = 2500
DEFAULT_PAGE_SIZE = 250

# With a sync token these filters are refused (discovery: events.list ``syncToken``).
FILTERS_REFUSED_WITH_SYNC_TOKEN = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)


def _invalid(name: str, value: str) -> GoogleApiError:
    return GoogleApiError(400, f"Invalid value for: {name}", "invalidParameter", location=name)


def boolean(query: QueryParams, name: str) -> bool | None:
    value = query.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise _invalid(name, value)
    return value.lower() == "true"


def integer(query: QueryParams, name: str, minimum: int | None = None) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise _invalid(name, value) from exc
    if minimum is not None and number < minimum:
        raise _invalid(name, value)
    return number


def _timestamp(query: QueryParams, name: str) -> datetime | None:
    value = query.get(name)
    return None if value is None else parse_rfc3339(value, name)


@dataclass(frozen=True)
class ListParams:
    max_results: int = DEFAULT_PAGE_SIZE
    page_token: str | None = None
    sync_token: str | None = None
    show_deleted: bool = False
    single_events: bool = False
    order_by: str | None = None
    time_min: datetime | None = None
    time_max: datetime | None = None
    updated_min: datetime | None = None
    q: str | None = None
    ical_uid: str | None = None
    private_props: tuple[tuple[str, str], ...] = ()
    shared_props: tuple[tuple[str, str], ...] = ()


def _properties(query: QueryParams, name: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for raw in query.getlist(name):
        key, sep, value = raw.partition("=")
        if not sep or not key:
            raise _invalid(name, raw)
        pairs.append((key, value))
    return tuple(pairs)


def parse_list_params(query: QueryParams) -> ListParams:
    """``events.list`` / ``events.watch`` parameters, with the sync-token rules Google enforces."""
    sync_token = query.get("syncToken")
    if sync_token is not None:
        for name in FILTERS_REFUSED_WITH_SYNC_TOKEN:
            if name in query:
                raise GoogleApiError(
                    400, f"The '{name}' parameter cannot be used with a sync token.", "invalid", location=name
                )
        if boolean(query, "showDeleted") is False:
            raise GoogleApiError(
                400, "showDeleted cannot be false with a sync token.", "invalid", location="showDeleted"
            )
    order_by = query.get("orderBy")
    if order_by is not None and order_by not in ("startTime", "updated"):
        raise _invalid("orderBy", order_by)
    single_events = bool(boolean(query, "singleEvents"))
    if order_by == "startTime" and not single_events:
        raise GoogleApiError(
            400,
            "The requested ordering is not available for the particular query.",
            "invalid",
            location="orderBy",
        )
    max_results = integer(query, "maxResults", minimum=1) or DEFAULT_PAGE_SIZE
    time_min, time_max = _timestamp(query, "timeMin"), _timestamp(query, "timeMax")
    if time_min is not None and time_max is not None and time_min >= time_max:
        raise GoogleApiError(400, "The specified time range is empty.", "timeRangeEmpty", location="timeMax")
    return ListParams(
        max_results=min(max_results, MAX_PAGE_SIZE),
        page_token=query.get("pageToken"),
        sync_token=sync_token,
        show_deleted=bool(boolean(query, "showDeleted")) or sync_token is not None,
        single_events=single_events,
        order_by=order_by,
        time_min=time_min,
        time_max=time_max,
        updated_min=_timestamp(query, "updatedMin"),
        q=query.get("q"),
        ical_uid=query.get("iCalUID"),
        private_props=_properties(query, "privateExtendedProperty"),
        shared_props=_properties(query, "sharedExtendedProperty"),
    )
