"""``events.list`` and ``events.instances``: filters, paging and sync tokens as Google applies them.

Without ``singleEvents`` a listing walks the calendar's change log in sequence order (which
is also ``orderBy=updated``), so an event changed while a client pages moves behind the
cursor and is read again later instead of being skipped; a page costs O(page size).
``nextSyncToken`` comes only on the last page, ``nextPageToken`` on every other one.
With ``singleEvents`` recurring masters are expanded into instances and the listing is
computed whole, then cut into pages by offset.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from app.sandbox.google_calendar.errors import GoogleApiError
from app.sandbox.google_calendar.instances import DEFAULT_HORIZON, aware, expand, overlaps, series
from app.sandbox.google_calendar.model import CalendarData, StoredEvent, moment_of, parse_rfc3339
from app.sandbox.google_calendar.params import ListParams
from app.sandbox.google_calendar.tokens import PageToken, SyncToken

__all__ = ["list_events", "list_instances"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCAN_FACTOR = 10
"""A filtered walk inspects at most this many log entries per requested item before it returns
a short page with a ``nextPageToken`` (Google: pages may be short, or empty, before the end)."""


def list_events(cal: CalendarData, params: ListParams, head_seq: int, now: datetime) -> dict[str, Any]:
    floor = -1
    if params.sync_token is not None:
        floor = SyncToken.decode(params.sync_token, cal.key, cal.sync_epoch).seq
    page = PageToken.decode(params.page_token, cal.key) if params.page_token else None
    if page is not None:
        floor = page.sync
    if params.single_events:
        items, next_offset = _expanded(cal, params, floor, page.after if page else 0, now)
        done = next_offset is None
        token = PageToken(cal.key, next_offset or 0, floor)
    else:
        items, after, done = _walk(cal, params, floor, page.after if page else floor)
        token = PageToken(cal.key, after, floor)
    body = _envelope(cal, items, now)
    if done:
        body["nextSyncToken"] = SyncToken(cal.key, cal.sync_epoch, head_seq).encode()
    else:
        body["nextPageToken"] = token.encode()
    return body


def list_instances(
    cal: CalendarData, master: StoredEvent, params: ListParams, now: datetime
) -> dict[str, Any]:
    if not master.is_master:
        raise GoogleApiError(400, "The event is not a recurring event.", "invalid")
    page = PageToken.decode(params.page_token, cal.key) if params.page_token else None
    items = expand(cal, master, params.time_min, params.time_max, params.show_deleted, now)
    offset = page.after if page else 0
    chunk = items[offset : offset + params.max_results]
    body = _envelope(cal, chunk, now)
    if offset + params.max_results < len(items):
        body["nextPageToken"] = PageToken(cal.key, offset + params.max_results).encode()
    return body


def _envelope(cal: CalendarData, items: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    updated = max((str(i["updated"]) for i in items if "updated" in i), default=None)
    return {
        "kind": "calendar#events",
        "etag": '"p3' + hashlib.sha256(f"{cal.id}|{len(items)}|{updated}".encode()).hexdigest()[:14] + '"',
        "summary": cal.summary,
        "description": cal.description,
        "updated": updated or now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "timeZone": cal.time_zone,
        "accessRole": cal.access_role,
        "defaultReminders": [{"method": "popup", "minutes": 10}] if cal.access_role == "owner" else [],
        "items": items,
    }


def _walk(
    cal: CalendarData, params: ListParams, floor: int, after: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """Items of the change log after sequence ``after``: (items, last sequence read, reached the end)."""
    index = cal.changed_after(after)
    items: list[dict[str, Any]] = []
    budget = params.max_results * _SCAN_FACTOR + 100
    last = after
    while index < len(cal.log_ids) and len(items) < params.max_results and budget > 0:
        event = cal.live_entry(index)
        last = cal.log_seqs[index]
        index += 1
        budget -= 1
        if event is not None and (floor >= 0 or _visible(cal, event, params)):
            items.append(event.public())
    return items, last, index >= len(cal.log_ids)


def _visible(cal: CalendarData, event: StoredEvent, params: ListParams) -> bool:
    """Whether a full (no sync token) listing without ``singleEvents`` returns ``event``."""
    resource = event.resource
    if params.updated_min is not None and parse_rfc3339(resource["updated"]) < params.updated_min:
        return False
    if event.cancelled:
        # Deleted events show with showDeleted or updatedMin; cancelled instances of a series
        # show even without (discovery: events.list ``showDeleted``).
        if not (params.show_deleted or params.updated_min is not None or event.is_exception):
            return False
    elif not _matches(resource, params):
        return False
    if params.time_min is None and params.time_max is None:
        return True
    if resource.get("recurrence"):
        return _series_overlaps(cal, resource, params)
    return overlaps(resource, cal.time_zone, params.time_min, params.time_max)


def _series_overlaps(cal: CalendarData, master: dict[str, Any], params: ListParams) -> bool:
    rule, start, duration, tz_name = series(master, cal.time_zone)
    horizon = params.time_max or (aware(start, tz_name) + DEFAULT_HORIZON * 50)
    for occurrence in rule.occurrences(start, horizon):
        if params.time_min is None or aware(occurrence + duration, tz_name) > params.time_min:
            return True
    return False


def _matches(resource: dict[str, Any], params: ListParams) -> bool:
    if params.ical_uid is not None and resource.get("iCalUID") != params.ical_uid:
        return False
    extended = resource.get("extendedProperties") or {}
    for scope, wanted in (("private", params.private_props), ("shared", params.shared_props)):
        props = extended.get(scope) or {}
        if any(props.get(k) != v for k, v in wanted):
            return False
    if params.q:
        haystack = " ".join(
            [str(resource.get(f, "")) for f in ("summary", "description", "location")]
            + [f"{a.get('email', '')} {a.get('displayName', '')}" for a in resource.get("attendees") or []]
            + [str((resource.get("organizer") or {}).get("displayName", ""))]
        ).casefold()
        if any(term.casefold() not in haystack for term in params.q.split()):
            return False
    return True


def _expanded(
    cal: CalendarData, params: ListParams, floor: int, offset: int, now: datetime
) -> tuple[list[dict[str, Any]], int | None]:
    items: list[dict[str, Any]] = []
    for event in cal.events.values():
        if floor >= 0:
            if event.seq <= floor:
                continue
            items.extend(expand(cal, event, None, None, True, now) if event.is_master else [event.public()])
            continue
        if event.is_exception:
            continue  # exceptions come out of their master's expansion
        if event.is_master:
            candidates = expand(cal, event, params.time_min, params.time_max, params.show_deleted, now)
        elif event.cancelled:
            if event.resource.get("recurrence") or not params.show_deleted:
                continue
            candidates = [event.minimal()]
        elif overlaps(event.resource, cal.time_zone, params.time_min, params.time_max):
            candidates = [event.resource]
        else:
            continue
        items.extend(c for c in candidates if c.get("status") == "cancelled" or _matches(c, params))
    items = list({item["id"]: item for item in items}.values())  # an exception also in its master's expansion
    if params.updated_min is not None:
        items = [i for i in items if "updated" not in i or parse_rfc3339(i["updated"]) >= params.updated_min]
    items.sort(key=lambda i: (_start_key(cal, i), i["id"]))
    chunk = items[offset : offset + params.max_results]
    more = offset + params.max_results < len(items)
    return chunk, (offset + params.max_results) if more else None


def _start_key(cal: CalendarData, item: dict[str, Any]) -> datetime:
    when = item.get("start") or item.get("originalStartTime")
    if not when:
        return _EPOCH
    return aware(moment_of(when, cal.time_zone), cal.time_zone)
