"""Pure mapping between Google Calendar event JSON and the unified ``CalendarEvent``.

External ids are ``<calendarId>/<eventId>`` (event ids never contain ``/``), so a record
names its calendar wherever only the id travels (``get_many``, ``update``, ``delete``).
An exception of a series has ``series_id`` = the master's external id.

All-day events are floating dates in Google; they map to midnight UTC with ``all_day``
set, so the same event maps identically from a listing and from ``events.get``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.connectors.base import Change
from app.errors import SkippableRecord
from app.models import DeleteReason, Tombstone
from app.models.calendar import CalendarEvent, ResponseStatus

__all__ = [
    "ORIGIN_KEY",
    "change_from_event",
    "event_from_unified",
    "external_id",
    "origin_of",
    "split_external_id",
    "to_unified",
]

ORIGIN_KEY = "passerelle_origin"
"""Private extended property carrying the hub's origin marker (echo suppression)."""

_RESPONSES = {
    "needsAction": ResponseStatus.NEEDS_ACTION,
    "accepted": ResponseStatus.ACCEPTED,
    "tentative": ResponseStatus.TENTATIVE,
    "declined": ResponseStatus.DECLINED,
}
_RESPONSES_BACK = {v: k for k, v in _RESPONSES.items()}


def external_id(calendar_id: str, event_id: str) -> str:
    return f"{calendar_id}/{event_id}"


def split_external_id(value: str) -> tuple[str, str]:
    """``(calendarId, eventId)``; raises ``ValueError`` for an id this connector did not make."""
    calendar_id, sep, event_id = value.rpartition("/")
    if not sep or not calendar_id or not event_id:
        raise ValueError(f"not a google calendar event id: {value!r}")
    return calendar_id, event_id


def _parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _moment(when: dict[str, Any], event_id: str) -> tuple[datetime, bool]:
    """(aware start or end, all day?) of an ``EventDateTime``."""
    if when.get("date"):
        return datetime.combine(date.fromisoformat(when["date"]), time(), tzinfo=UTC), True
    raw = when.get("dateTime")
    if not raw:
        raise SkippableRecord(f"event {event_id}: a time without date or dateTime")
    moment = _parse_instant(str(raw))
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(str(when.get("timeZone") or "UTC")))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SkippableRecord(f"event {event_id}: unknown time zone {when.get('timeZone')!r}") from exc
    return moment, False


def _online_url(event: dict[str, Any]) -> str | None:
    if event.get("hangoutLink"):
        return str(event["hangoutLink"])
    for entry in (event.get("conferenceData") or {}).get("entryPoints") or []:
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return None


def to_unified(calendar_id: str, event: dict[str, Any]) -> CalendarEvent:
    """A live (not cancelled) Google event as a ``CalendarEvent``. Raises ``SkippableRecord``."""
    event_id = str(event.get("id"))
    if "start" not in event or "end" not in event:
        raise SkippableRecord(f"event {event_id}: no start or end")
    start, all_day = _moment(event["start"], event_id)
    end, _ = _moment(event["end"], event_id)
    # One validation of the whole event (attendees included) instead of one model per
    # attendee plus one per event: the mapping runs for every event of every full read.
    attendees = [
        {
            "email": str(a["email"]),
            "name": a.get("displayName"),
            "response": _RESPONSES.get(str(a.get("responseStatus")), ResponseStatus.NEEDS_ACTION),
            "optional": bool(a.get("optional", False)),
        }
        for a in event.get("attendees") or []
        if a.get("email")
    ]
    master = event.get("recurringEventId")
    try:
        return CalendarEvent.model_validate({
            "calendar": calendar_id,
            "title": str(event.get("summary") or ""),
            "description": str(event.get("description") or ""),
            "start": start,
            "end": end,
            "all_day": all_day,
            "location": event.get("location") or None,
            "online_meeting_url": _online_url(event),
            "organizer": (event.get("organizer") or {}).get("email"),
            "attendees": attendees,
            "recurrence": [str(r) for r in event.get("recurrence") or ()],
            "series_id": external_id(calendar_id, str(master)) if master else None,
            "status": event.get("status") or "confirmed",
            "ical_uid": event.get("iCalUID"),
        })
    except ValueError as exc:
        raise SkippableRecord(f"event {event_id}: {exc}") from exc


def _stamp(value: Any) -> datetime | None:
    return _parse_instant(str(value)) if value else None


def change_from_event(calendar_id: str, event: dict[str, Any], now: datetime) -> Change:
    """One change read from a listing or ``events.get``: a cancelled event is a tombstone."""
    ext_id = external_id(calendar_id, str(event["id"]))
    version = event.get("etag")
    updated = _stamp(event.get("updated"))
    if event.get("status") == "cancelled":
        return Change(
            external_id=ext_id,
            version=version,
            raw=event,
            updated_at=updated,
            tombstone=Tombstone(deleted_at=updated or now, reason=DeleteReason.DELETED),
        )
    return Change(
        external_id=ext_id,
        version=version,
        body=to_unified(calendar_id, event),
        raw=event,
        created_at=_stamp(event.get("created")),
        updated_at=updated,
        url=event.get("htmlLink"),
    )


def origin_of(event: dict[str, Any]) -> str | None:
    """The hub origin marker a hub write left on the event, if any."""
    value = ((event.get("extendedProperties") or {}).get("private") or {}).get(ORIGIN_KEY)
    return str(value) if value is not None else None


def _when(moment: datetime, all_day: bool, needs_zone: bool) -> dict[str, Any]:
    if all_day:
        return {"date": moment.date().isoformat()}
    zone = moment.tzinfo.key if isinstance(moment.tzinfo, ZoneInfo) else None
    if zone is None and needs_zone:
        # A recurring event needs a named zone; a fixed offset only fits UTC faithfully.
        moment, zone = moment.astimezone(UTC), "UTC"
    when: dict[str, Any] = {"dateTime": moment.isoformat()}
    if zone:
        when["timeZone"] = zone
    return when


def event_from_unified(body: CalendarEvent, origin: str, *, for_insert: bool) -> dict[str, Any]:
    """The Google event JSON for a hub write. Empty optional fields are sent as ``null`` (cleared)
    on a patch. Read-only fields (organizer, hangoutLink) are not written."""
    recurring = bool(body.recurrence)
    event: dict[str, Any] = {
        "summary": body.title,
        "description": body.description or None,
        "location": body.location,
        "start": _when(body.start, body.all_day, recurring),
        "end": _when(body.end, body.all_day, recurring),
        "status": body.status.value,
        "attendees": [
            {
                "email": a.email,
                **({"displayName": a.name} if a.name else {}),
                "responseStatus": _RESPONSES_BACK[a.response],
                "optional": a.optional,
            }
            for a in body.attendees
        ],
        "recurrence": list(body.recurrence) or None,
        "extendedProperties": {"private": {ORIGIN_KEY: origin}},
    }
    if for_insert:
        event = {k: v for k, v in event.items() if v is not None}
        if body.ical_uid:
            event["iCalUID"] = body.ical_uid
    return event
