"""The stored state of one Outlook event and how Graph renders it.

A ``StoredEvent`` is a single event or a series master. Occurrences are not stored:
they are computed from the master's recurrence, minus ``cancelled_dates``, with
``exceptions`` (per-date overrides) applied; their ids are derived from the master id.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from app.sandbox.graph.recurrence import occurrence_dates
from app.sandbox.graph.timezones import format_graph_datetime, zone

__all__ = ["Instance", "StoredEvent", "change_key_for", "occurrence_id", "split_occurrence_id"]

_OCCURRENCE_MARK = "_OID_"


def change_key_for(event_id: str, version: int) -> str:
    digest = hashlib.sha256(f"{event_id}:{version}".encode()).digest()[:12]
    return base64.b64encode(b"DwAAABYAAA" + digest).decode()


def occurrence_id(master_id: str, day: date) -> str:
    return f"{master_id}{_OCCURRENCE_MARK}{day:%Y%m%d}"


def split_occurrence_id(event_id: str) -> tuple[str, date | None]:
    master, mark, day = event_id.partition(_OCCURRENCE_MARK)
    if not mark:
        return event_id, None
    try:
        return master, datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        return event_id, None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass
class StoredEvent:
    id: str
    user_id: str
    calendar_id: str
    subject: str
    start: datetime  # aware, UTC
    end: datetime
    start_tz: str = "UTC"  # the zone the event was created in (Windows or IANA name)
    end_tz: str = "UTC"
    body_html: str = ""
    is_all_day: bool = False
    location: str = ""
    organizer: tuple[str, str] = ("", "")  # (name, address)
    attendees: list[dict[str, Any]] = field(default_factory=list)
    online_meeting_url: str | None = None
    recurrence: dict[str, Any] | None = None
    ical_uid: str = ""
    transaction_id: str | None = None
    is_cancelled: bool = False
    is_organizer: bool = True
    categories: list[str] = field(default_factory=list)
    extended: dict[str, str] = field(default_factory=dict)
    exceptions: dict[date, dict[str, Any]] = field(default_factory=dict)
    cancelled_dates: set[date] = field(default_factory=set)
    retired_dates: set[date] = field(default_factory=set)
    """Occurrence dates that existed under an earlier recurrence (reported as removed)."""
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    version: int = 1
    seq: int = 0
    deleted: bool = False

    @property
    def change_key(self) -> str:
        return change_key_for(self.id, self.version)

    @property
    def is_series(self) -> bool:
        return self.recurrence is not None

    @property
    def tz(self) -> Any:
        return zone(self.start_tz)

    def occurrences(self, window_start: datetime, window_end: datetime) -> list[date]:
        if self.recurrence is None:
            return []
        return occurrence_dates(
            self.recurrence, self.start, self.end - self.start, self.tz, window_start, window_end
        )

    def occurrence(self, day: date) -> Instance:
        local = self.start.astimezone(self.tz)
        begins = datetime.combine(day, local.timetz()).astimezone(UTC)
        override = self.exceptions.get(day, {})
        start = override.get("start", begins)
        end = override.get("end", start + (self.end - self.start))
        return Instance(self, day, start, end, override)

    def instance(self) -> Instance:
        return Instance(self, None, self.start, self.end, {})


@dataclass(frozen=True)
class Instance:
    """One renderable event: the stored event itself, or one occurrence of a series."""

    event: StoredEvent
    day: date | None
    start: datetime
    end: datetime
    override: dict[str, Any]

    @property
    def id(self) -> str:
        return self.event.id if self.day is None else occurrence_id(self.event.id, self.day)

    @property
    def type(self) -> str:
        if self.day is None:
            return "seriesMaster" if self.event.is_series else "singleInstance"
        return "exception" if self.override else "occurrence"

    @property
    def change_key(self) -> str:
        if self.day is None:
            return self.event.change_key
        return change_key_for(self.id, self.event.version * 1000 + int(self.override.get("version", 0)))

    def overlaps(self, window_start: datetime, window_end: datetime) -> bool:
        return self.start < window_end and self.end > window_start

    def render(
        self, tz_name: str = "UTC", expand_ids: frozenset[str] | None = None, body_type: str = "html"
    ) -> dict[str, Any]:
        """The Graph JSON of this event; ``expand_ids`` names the extended properties to include."""
        ev = self.event
        subject = self.override.get("subject", ev.subject)
        location = self.override.get("location", ev.location)
        organizer_name, organizer_address = ev.organizer
        ical_uid = ev.ical_uid if self.day is None else _occurrence_uid(ev.ical_uid, self.day)
        modified = self.override.get("modified", ev.modified)
        body: dict[str, Any] = {
            "@odata.etag": f'W/"{self.change_key}"',
            "id": self.id,
            "createdDateTime": _iso(ev.created),
            "lastModifiedDateTime": _iso(modified),
            "changeKey": self.change_key,
            "categories": list(ev.categories),
            "transactionId": ev.transaction_id,
            "originalStartTimeZone": ev.start_tz,
            "originalEndTimeZone": ev.end_tz,
            "iCalUId": ical_uid,
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "hasAttachments": False,
            "subject": subject,
            "bodyPreview": _preview(ev.body_html),
            "importance": "normal",
            "sensitivity": "normal",
            "isAllDay": ev.is_all_day,
            "isCancelled": ev.is_cancelled,
            "isOrganizer": ev.is_organizer,
            "responseRequested": True,
            "seriesMasterId": ev.id if self.day is not None else None,
            "showAs": "busy",
            "type": self.type,
            "webLink": f"https://outlook.office365.com/owa/?itemid={self.id}&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": ev.online_meeting_url is not None,
            "onlineMeetingProvider": "teamsForBusiness" if ev.online_meeting_url else "unknown",
            "allowNewTimeProposals": True,
            "isDraft": False,
            "hideAttendees": False,
            "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
            "body": {"contentType": "html", "content": ev.body_html}
            if body_type == "html"
            else {"contentType": "text", "content": _preview(ev.body_html, limit=None)},
            "start": format_graph_datetime(self.start, tz_name),
            "end": format_graph_datetime(self.end, tz_name),
            "location": _location(location),
            "locations": [_location(location)] if location else [],
            "recurrence": ev.recurrence if self.day is None else None,
            "attendees": [dict(a) for a in self.override.get("attendees", ev.attendees)],
            "organizer": {"emailAddress": {"name": organizer_name, "address": organizer_address}},
            "onlineMeeting": {"joinUrl": ev.online_meeting_url} if ev.online_meeting_url else None,
        }
        if self.day is not None:
            body["originalStart"] = _iso(
                self.event.occurrence(self.day).start if self.override else self.start
            )
        if expand_ids is not None:
            body["singleValueExtendedProperties"] = [
                {"id": key, "value": value}
                for key, value in ev.extended.items()
                if not expand_ids or key.lower() in expand_ids
            ]
        return body


def _occurrence_uid(master_uid: str, day: date) -> str:
    # Exchange gives every occurrence its own iCalUId (the series' UID with the date folded in).
    return f"{master_uid}-{day:%Y%m%d}"


def _preview(html: str, limit: int | None = 255) -> str:
    text = re.sub(r"<[^>]+>", "", html).strip()
    return text if limit is None else text[:limit]


def _location(name: str) -> dict[str, Any]:
    return {"displayName": name, "locationType": "default", "uniqueIdType": "unknown"}
