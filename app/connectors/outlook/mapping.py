"""Pure mapping between Graph event JSON and the unified ``CalendarEvent``.

Reads expect UTC times (the connector sends ``Prefer: outlook.timezone="UTC"``) but
accept any Windows or IANA zone. Writes send UTC. The hub's origin marker travels as a
single-value extended property (:data:`ORIGIN_PROPERTY`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.connectors.outlook.timezones import to_zone
from app.errors import SkippableRecord
from app.models import CalendarEvent, EventStatus, ResponseStatus

__all__ = ["ORIGIN_PROPERTY", "from_unified", "origin_of", "parse_datetime", "to_unified"]

ORIGIN_PROPERTY = "String {5b3c1f2e-7d8a-4c61-9e0f-2a6b8d4c1e97} Name passerelleOrigin"
"""A named MAPI string property in a GUID namespace of ours; survives edits in Outlook clients."""

_RESPONSES = {
    "accepted": ResponseStatus.ACCEPTED,
    "organizer": ResponseStatus.ACCEPTED,
    "tentativelyAccepted": ResponseStatus.TENTATIVE,
    "declined": ResponseStatus.DECLINED,
    "none": ResponseStatus.NEEDS_ACTION,
    "notResponded": ResponseStatus.NEEDS_ACTION,
}
_TO_GRAPH_RESPONSE = {
    ResponseStatus.ACCEPTED: "accepted",
    ResponseStatus.TENTATIVE: "tentativelyAccepted",
    ResponseStatus.DECLINED: "declined",
    ResponseStatus.NEEDS_ACTION: "none",
}
_DAYS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


def parse_datetime(value: dict[str, Any] | None) -> datetime:
    """Graph ``dateTimeTimeZone`` -> aware UTC datetime (7-digit fractions, Windows zones)."""
    if not value or not value.get("dateTime"):
        raise ValueError("missing dateTime")
    raw = str(value["dateTime"]).rstrip("Z")
    head, _, fraction = raw.partition(".")
    moment = datetime.fromisoformat(head)
    if fraction:
        moment = moment.replace(microsecond=int((fraction + "000000")[:6]))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=to_zone(value.get("timeZone")))
    return moment.astimezone(UTC)


def _rrule(recurrence: dict[str, Any] | None) -> tuple[str, ...]:
    if not recurrence:
        return ()
    pattern = recurrence.get("pattern") or {}
    freq = {
        "daily": "DAILY",
        "weekly": "WEEKLY",
        "absoluteMonthly": "MONTHLY",
        "relativeMonthly": "MONTHLY",
        "absoluteYearly": "YEARLY",
        "relativeYearly": "YEARLY",
    }.get(pattern.get("type", ""))
    if freq is None:
        return ()
    rule = f"RRULE:FREQ={freq}"
    if int(pattern.get("interval") or 1) != 1:
        rule += f";INTERVAL={int(pattern['interval'])}"
    days = [_DAYS[d] for d in pattern.get("daysOfWeek") or [] if d in _DAYS]
    if days and freq == "WEEKLY":
        rule += ";BYDAY=" + ",".join(days)
    rng = recurrence.get("range") or {}
    if rng.get("type") == "endDate" and rng.get("endDate"):
        rule += ";UNTIL=" + str(rng["endDate"]).replace("-", "")
    elif rng.get("type") == "numbered" and rng.get("numberOfOccurrences"):
        rule += f";COUNT={int(rng['numberOfOccurrences'])}"
    return (rule,)


def _status(event: dict[str, Any]) -> EventStatus:
    if event.get("isCancelled"):
        return EventStatus.CANCELLED
    if event.get("showAs") == "tentative":
        return EventStatus.TENTATIVE
    return EventStatus.CONFIRMED


def _text_of(body: dict[str, Any] | None, preview: str | None) -> str:
    if body and body.get("contentType") == "text":
        return str(body.get("content") or "")
    if body and body.get("content"):
        return str(body["content"])
    return preview or ""


def to_unified(event: dict[str, Any], calendar: str, series_ical_uid: str | None = None) -> CalendarEvent:
    """The unified body of a Graph event. ``series_ical_uid`` replaces an occurrence's own iCalUId.

    Exchange gives every occurrence its own iCalUId; the series' one is what other tools
    (Google, iCalendar) share, so the connector passes the series master's value here.
    Raises ``SkippableRecord`` for an event that cannot be mapped.
    """
    try:
        start = parse_datetime(event.get("start"))
        end = parse_datetime(event.get("end"))
    except ValueError as exc:
        raise SkippableRecord(f"outlook event {event.get('id')}: {exc}") from exc
    organizer = ((event.get("organizer") or {}).get("emailAddress") or {}).get("address")
    # One validation of the whole event (attendees included) instead of one model per
    # attendee plus one per event: the mapping runs for every event of every full read.
    attendees = [
        {
            "email": str(a["emailAddress"]["address"]).lower(),
            "name": a["emailAddress"].get("name") or None,
            "response": _RESPONSES.get(
                ((a.get("status") or {}).get("response")) or "none", ResponseStatus.NEEDS_ACTION
            ),
            "optional": a.get("type") == "optional",
        }
        for a in event.get("attendees") or []
        if (a.get("emailAddress") or {}).get("address")
    ]
    location = ((event.get("location") or {}).get("displayName") or "").strip() or None
    online = (event.get("onlineMeeting") or {}).get("joinUrl") or event.get("onlineMeetingUrl") or None
    try:
        return CalendarEvent.model_validate({
            "calendar": calendar,
            "title": str(event.get("subject") or ""),
            "description": _text_of(event.get("body"), event.get("bodyPreview")),
            "start": start,
            "end": end,
            "all_day": bool(event.get("isAllDay")),
            "location": location,
            "online_meeting_url": online,
            "organizer": organizer.lower() if organizer else None,
            "attendees": attendees,
            "recurrence": _rrule(event.get("recurrence")),
            "series_id": event.get("seriesMasterId") or None,
            "status": _status(event),
            "ical_uid": series_ical_uid or event.get("iCalUId") or None,
        })
    except ValueError as exc:
        raise SkippableRecord(f"outlook event {event.get('id')}: {exc}") from exc


def _graph_time(moment: datetime) -> dict[str, str]:
    utc = moment.astimezone(UTC)
    return {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def from_unified(body: CalendarEvent, origin: str | None = None) -> dict[str, Any]:
    """Graph JSON for a create or a full update. Recurrence is not written (the hub writes instances)."""
    payload: dict[str, Any] = {
        "subject": body.title,
        "body": {"contentType": "text", "content": body.description},
        "start": _graph_time(body.start),
        "end": _graph_time(body.end),
        "isAllDay": body.all_day,
        "location": {"displayName": body.location or ""},
        "attendees": [
            {
                "emailAddress": {"address": a.email, **({"name": a.name} if a.name else {})},
                "type": "optional" if a.optional else "required",
            }
            for a in body.attendees
        ],
        "showAs": "tentative" if body.status is EventStatus.TENTATIVE else "busy",
    }
    if body.online_meeting_url:
        payload["isOnlineMeeting"] = True
    if origin is not None:
        payload["singleValueExtendedProperties"] = [{"id": ORIGIN_PROPERTY, "value": origin}]
    return payload


def origin_of(event: dict[str, Any]) -> str | None:
    """The hub origin marker of an event fetched with the extended property expanded."""
    for prop in event.get("singleValueExtendedProperties") or []:
        if str(prop.get("id", "")).lower() == ORIGIN_PROPERTY.lower():
            return str(prop.get("value")) if prop.get("value") is not None else None
    return None
