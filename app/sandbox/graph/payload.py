"""Apply a client's event JSON (POST / PATCH body) to a stored event, as Exchange would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.sandbox.graph.errors import GraphError
from app.sandbox.graph.model import StoredEvent
from app.sandbox.graph.timezones import parse_graph_datetime, windows_name, zone

__all__ = ["READ_ONLY", "apply_changes", "new_event"]

READ_ONLY = frozenset(
    {
        "id",
        "changeKey",
        "createdDateTime",
        "lastModifiedDateTime",
        "iCalUId",
        "type",
        "seriesMasterId",
        "webLink",
        "isCancelled",
        "isOrganizer",
        "@odata.etag",
        "@odata.context",
        "originalStart",
        "bodyPreview",
        "hasAttachments",
    }
)
_RESPONSES = {"none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded"}


def _bad(message: str) -> GraphError:
    return GraphError(400, "ErrorInvalidRequest", message)


def _when(value: Any, field: str) -> tuple[datetime, str]:
    if not isinstance(value, dict):
        raise _bad(f"'{field}' must be a dateTimeTimeZone object.")
    try:
        moment = parse_graph_datetime(value)
        tz_name = str(value.get("timeZone") or "UTC")
        zone(tz_name)
    except ValueError as exc:
        raise GraphError(
            400, "TimeZoneNotSupportedException" if "zone" in str(exc) else "ErrorInvalidRequest", str(exc)
        ) from exc
    return moment, windows_name(tz_name)


def _attendees(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _bad("'attendees' must be a collection.")
    out = []
    for item in value:
        address = ((item or {}).get("emailAddress") or {}).get("address")
        if not address:
            raise _bad("An attendee needs emailAddress.address.")
        status = (item.get("status") or {}).get("response", "none")
        if status not in _RESPONSES:
            raise _bad(f"Unknown response '{status}'.")
        out.append(
            {
                "type": item.get("type", "required"),
                "status": {"response": status, "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {"name": item["emailAddress"].get("name") or address, "address": address},
            }
        )
    return out


def _location(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, dict):
        raise _bad("'location' must be an object.")
    return str(value.get("displayName") or "")


def _extended(value: Any) -> dict[str, str]:
    if not isinstance(value, list):
        raise _bad("'singleValueExtendedProperties' must be a collection.")
    out = {}
    for prop in value:
        if not isinstance(prop, dict) or not prop.get("id"):
            raise _bad("An extended property needs an id.")
        out[str(prop["id"])] = str(prop.get("value") or "")
    return out


def apply_changes(event: StoredEvent, body: dict[str, Any]) -> None:
    """Set the writable properties present in ``body``; read-only ones are ignored like Graph does."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    if "subject" in body:
        event.subject = str(body["subject"] or "")
    if "body" in body:
        event.body_html = str((body["body"] or {}).get("content") or "")
    if "start" in body:
        event.start, event.start_tz = _when(body["start"], "start")
    if "end" in body:
        event.end, event.end_tz = _when(body["end"], "end")
    if "isAllDay" in body:
        event.is_all_day = bool(body["isAllDay"])
    if "location" in body:
        event.location = _location(body["location"])
    if "attendees" in body:
        event.attendees = _attendees(body["attendees"])
    if "categories" in body:
        event.categories = [str(c) for c in body["categories"] or []]
    if "recurrence" in body and body["recurrence"] != event.recurrence:
        span = (event.start - timedelta(days=400), event.start + timedelta(days=400))
        before = set(event.occurrences(*span))
        event.recurrence = body["recurrence"]
        after = set(event.occurrences(*span))
        # Occurrences the new pattern no longer has are reported as removed by the next delta.
        event.retired_dates = (event.retired_dates | (before - after)) - after
    if body.get("isOnlineMeeting") and not event.online_meeting_url:
        event.online_meeting_url = f"https://teams.microsoft.com/l/meetup-join/{event.id}"
    if "singleValueExtendedProperties" in body:
        event.extended.update(_extended(body["singleValueExtendedProperties"]))
    if event.end < event.start:
        raise _bad("The end time of an event must be after its start time.")
    if event.is_all_day and (event.start.astimezone(zone(event.start_tz)).time() != datetime.min.time()):
        raise _bad("An all-day event must start and end at midnight.")


def new_event(
    event_id: str, user_id: str, calendar_id: str, body: dict[str, Any], organizer: tuple[str, str]
) -> StoredEvent:
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    for needed in ("start", "end"):
        if needed not in body:
            raise _bad(f"'{needed}' is required.")
    now = datetime.now(UTC)
    event = StoredEvent(
        id=event_id,
        user_id=user_id,
        calendar_id=calendar_id,
        subject="",
        start=now,
        end=now,
        organizer=organizer,
        transaction_id=body.get("transactionId"),
        ical_uid=f"040000008200E00074C5B7101A82E00800000000{event_id[-20:]}",
    )
    apply_changes(event, body)
    return event
