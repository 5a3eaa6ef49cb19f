"""Calendars and their events, and every mutation Google allows on them.

Mutations give the event a fresh ``seq``, ``etag`` and ``updated`` time and tell the
listeners (push channels) which calendar changed. Instance ids of a series may be read,
patched and deleted before any exception exists: the first write creates the exception.
Callers hold the simulator lock.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.sandbox.google_calendar.errors import GoogleApiError
from app.sandbox.google_calendar.instances import materialize, occurrence_of, series, split_instance_id
from app.sandbox.google_calendar.model import CalendarData, StoredEvent, format_rfc3339, moment_of

__all__ = ["EventStore"]

_ID_PATTERN = re.compile(r"^[a-v0-9]{5,1024}$")
_SERVER_FIELDS = (
    "kind",
    "etag",
    "id",
    "htmlLink",
    "created",
    "updated",
    "creator",
    "organizer",
    "recurringEventId",
    "originalStartTime",
    "iCalUID",
    "sequence",
)


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """PATCH semantics: objects merge, arrays and scalars replace, ``null`` clears."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class EventStore:
    def __init__(self, user_email: str, clock: Callable[[], datetime], id_seed: str) -> None:
        self.user_email = user_email
        self.calendars: dict[str, CalendarData] = {}
        self.listeners: list[Callable[[str], None]] = []
        self.seq = 0
        self._clock = clock
        self._last_updated = datetime(1970, 1, 1, tzinfo=UTC)
        self._id_seed = id_seed
        self._ids_made = 0

    # --- identity ---------------------------------------------------------------------------
    def calendar(self, calendar_id: str) -> CalendarData:
        cal = self.calendars.get(self.user_email if calendar_id == "primary" else calendar_id)
        if cal is None:
            raise GoogleApiError(404, "Not Found", "notFound")
        return cal

    def writable(self, calendar_id: str) -> CalendarData:
        cal = self.calendar(calendar_id)
        if cal.access_role not in ("owner", "writer"):
            raise GoogleApiError(
                403, "You need to have writer access to this calendar.", "requiredAccessLevel"
            )
        return cal

    def new_id(self) -> str:
        self._ids_made += 1
        digest = hashlib.sha256(f"{self._id_seed}:{self._ids_made}".encode()).digest()
        return base64.b32hexencode(digest[:16]).decode().lower().rstrip("=")

    def now(self) -> datetime:
        return self._clock()

    def _stamp(self, resource: dict[str, Any]) -> int:
        """Give ``resource`` the next sequence, its etag and a strictly increasing ``updated``."""
        self.seq += 1
        moment = max(self._clock(), self._last_updated + timedelta(milliseconds=1))
        self._last_updated = moment
        resource["etag"] = f'"{3_180_000_000_000_000 + self.seq * 1000}"'
        resource["updated"] = format_rfc3339(moment)
        return self.seq

    def _save(self, cal: CalendarData, resource: dict[str, Any]) -> dict[str, Any]:
        seq = self._stamp(resource)
        cal.put(StoredEvent(resource, seq))
        for listener in self.listeners:
            listener(cal.id)
        return resource

    # --- reads ------------------------------------------------------------------------------
    def get(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        cal = self.calendar(calendar_id)
        stored = cal.events.get(event_id)
        if stored is not None:
            return stored.public()
        return self._virtual_instance(cal, event_id)

    def _virtual_instance(self, cal: CalendarData, event_id: str) -> dict[str, Any]:
        parts = split_instance_id(event_id)
        master = cal.events.get(parts[0]) if parts else None
        if parts is None or master is None or not master.is_master:
            raise GoogleApiError(404, "Not Found", "notFound")
        occurrence = occurrence_of(master.resource, cal.time_zone, parts[1])
        if occurrence is None:
            raise GoogleApiError(404, "Not Found", "notFound")
        return materialize(master.resource, cal.time_zone, occurrence)

    # --- writes -----------------------------------------------------------------------------
    def insert(
        self,
        calendar_id: str,
        body: dict[str, Any],
        actor: str,
        organizer: dict[str, Any] | None = None,
        *,
        as_owner: bool = False,
    ) -> dict[str, Any]:
        """A new event; ``organizer`` overrides the default (the calendar itself) for seeded meetings.

        ``as_owner`` skips the access check: the change is made by the calendar's owner (admin routes).
        """
        cal = self.calendar(calendar_id) if as_owner else self.writable(calendar_id)
        event_id = body.get("id") or self.new_id()
        if not _ID_PATTERN.match(str(event_id)):
            raise GoogleApiError(400, "Invalid resource id value.", "invalid")
        if event_id in cal.events:
            raise GoogleApiError(409, "The requested identifier already exists.", "duplicate")
        ical_uid = body.get("iCalUID") or f"{event_id}@google.com"
        if ical_uid in cal.ical_uids:
            raise GoogleApiError(409, "The requested identifier already exists.", "duplicate")
        resource = {k: copy.deepcopy(v) for k, v in body.items() if k not in _SERVER_FIELDS and v is not None}
        created = format_rfc3339(max(self._clock(), self._last_updated))
        resource.update(
            {
                "kind": "calendar#event",
                "id": event_id,
                "status": body.get("status") or "confirmed",
                "htmlLink": self._html_link(cal, event_id),
                "created": created,
                "creator": {"email": actor, **({"self": True} if actor == self.user_email else {})},
                "organizer": organizer or self._organizer(cal),
                "iCalUID": ical_uid,
                "sequence": 0,
                "eventType": body.get("eventType") or "default",
            }
        )
        resource.setdefault("reminders", {"useDefault": True})
        self._check_times(cal, resource)
        self._flag_attendees(cal, resource)
        return self._save(cal, resource)

    def patch(
        self,
        calendar_id: str,
        event_id: str,
        body: dict[str, Any],
        if_match: str | None,
        *,
        replace: bool = False,
        as_owner: bool = False,
    ) -> dict[str, Any]:
        cal = self.calendar(calendar_id) if as_owner else self.writable(calendar_id)
        stored = cal.events.get(event_id)
        if stored is not None and stored.cancelled and body.get("status") in (None, "cancelled"):
            raise GoogleApiError(410, "Resource has been deleted", "deleted")
        current = copy.deepcopy(stored.resource if stored else self._virtual_instance(cal, event_id))
        self._check_precondition(current, if_match)
        changes = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
        if replace:
            keep = {k: current[k] for k in _SERVER_FIELDS if k in current}
            current = {**keep, **{k: copy.deepcopy(v) for k, v in changes.items() if v is not None}}
            current.setdefault("status", "confirmed")
        else:
            _merge(current, changes)
        if current.get("status") == "cancelled":
            return self._cancel(cal, current)
        if any(k in changes for k in ("start", "end", "summary", "location", "description", "recurrence")):
            current["sequence"] = int(current.get("sequence", 0)) + 1
        self._check_times(cal, current)
        self._flag_attendees(cal, current)
        return self._save(cal, current)

    def delete(
        self, calendar_id: str, event_id: str, if_match: str | None, *, as_owner: bool = False
    ) -> None:
        cal = self.calendar(calendar_id) if as_owner else self.writable(calendar_id)
        stored = cal.events.get(event_id)
        if stored is not None and stored.cancelled:
            raise GoogleApiError(410, "Resource has been deleted", "deleted")
        current = copy.deepcopy(stored.resource if stored else self._virtual_instance(cal, event_id))
        self._check_precondition(current, if_match)
        self._cancel(cal, current)

    def _cancel(self, cal: CalendarData, resource: dict[str, Any]) -> dict[str, Any]:
        resource["status"] = "cancelled"
        saved = self._save(cal, resource)
        if resource.get("recurrence"):
            prefix = f"{resource['id']}_"
            for exception in [e for e in cal.events.values() if e.id.startswith(prefix) and not e.cancelled]:
                self._save(cal, {**exception.resource, "status": "cancelled"})
        return saved

    # --- rules ------------------------------------------------------------------------------
    @staticmethod
    def _check_precondition(current: dict[str, Any], if_match: str | None) -> None:
        if if_match is None or if_match.strip() == "*":
            return
        candidates = {tag.strip() for tag in if_match.split(",")}
        if current.get("etag") not in candidates:
            raise GoogleApiError(
                412, "Precondition Failed", "conditionNotMet", location="If-Match", location_type="header"
            )

    def _check_times(self, cal: CalendarData, resource: dict[str, Any]) -> None:
        if "start" not in resource or "end" not in resource:
            raise GoogleApiError(
                400, "Missing end time." if "start" in resource else "Missing start time.", "required"
            )
        start = moment_of(resource["start"], cal.time_zone)
        end = moment_of(resource["end"], cal.time_zone)
        if isinstance(start, datetime) != isinstance(end, datetime):
            raise GoogleApiError(
                400, "Start and end times must either both be date or both be dateTime.", "invalid"
            )
        all_day = not isinstance(start, datetime)
        if (all_day and end <= start) or (not all_day and end < start):
            raise GoogleApiError(400, "The specified time range is empty.", "timeRangeEmpty")
        if resource.get("recurrence"):
            if isinstance(start, datetime) and not resource["start"].get("timeZone"):
                raise GoogleApiError(400, "Missing time zone definition for start time.", "required")
            series(resource, cal.time_zone)

    @staticmethod
    def _organizer(cal: CalendarData) -> dict[str, Any]:
        organizer: dict[str, Any] = {"email": cal.id, "displayName": cal.summary}
        if cal.access_role == "owner":
            organizer["self"] = True
        return organizer

    def _flag_attendees(self, cal: CalendarData, resource: dict[str, Any]) -> None:
        organizer = resource.get("organizer", {}).get("email")
        for attendee in resource.get("attendees") or []:
            if "email" not in attendee:
                raise GoogleApiError(400, "Invalid attendee email.", "invalid")
            attendee.setdefault("responseStatus", "needsAction")
            if attendee["email"] == organizer:
                attendee["organizer"] = True
            if attendee["email"] == cal.id:
                attendee["self"] = True

    @staticmethod
    def _html_link(cal: CalendarData, event_id: str) -> str:
        eid = base64.urlsafe_b64encode(f"{event_id} {cal.id}".encode()).decode().rstrip("=")
        return f"https://www.google.com/calendar/event?eid={eid}"
