"""The simulator's stored state: calendars, events with their change sequence, and time helpers.

Every mutation gives an event a new ``seq`` from one simulator-wide counter. A calendar
keeps an append-only change log of ``(seq, event id)``; an entry is stale when the event
has changed again since. Listing walks that log from a position found by bisection, so a
page costs O(page size) however large the calendar is.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.sandbox.google_calendar.errors import GoogleApiError

__all__ = [
    "CalendarData",
    "StoredEvent",
    "format_rfc3339",
    "moment_of",
    "parse_rfc3339",
    "zone",
]


@dataclass
class StoredEvent:
    resource: dict[str, Any]
    seq: int

    @property
    def id(self) -> str:
        return str(self.resource["id"])

    @property
    def cancelled(self) -> bool:
        return self.resource.get("status") == "cancelled"

    @property
    def is_exception(self) -> bool:
        return "recurringEventId" in self.resource

    @property
    def is_master(self) -> bool:
        return bool(self.resource.get("recurrence")) and not self.cancelled

    def minimal(self) -> dict[str, Any]:
        """What Google returns for a cancelled event: identity and status only."""
        keep = ("kind", "etag", "id", "status", "recurringEventId", "originalStartTime")
        return {k: self.resource[k] for k in keep if k in self.resource}

    def public(self) -> dict[str, Any]:
        return self.minimal() if self.cancelled else self.resource


@dataclass
class CalendarData:
    id: str
    summary: str
    time_zone: str
    access_role: str = "owner"
    primary: bool = False
    description: str = ""
    events: dict[str, StoredEvent] = field(default_factory=dict)
    log_seqs: list[int] = field(default_factory=list)
    log_ids: list[str] = field(default_factory=list)
    sync_epoch: int = 0
    """Bumped to expire every sync token handed out so far."""
    ical_uids: dict[str, str] = field(default_factory=dict)
    """iCalUID -> id of the live event (not an exception) that carries it: duplicates are refused."""

    @property
    def key(self) -> str:
        """A short, stable fingerprint bound into the calendar's tokens."""
        return hashlib.sha256(self.id.encode()).hexdigest()[:10]

    def put(self, event: StoredEvent) -> None:
        self.events[event.id] = event
        uid = event.resource.get("iCalUID")
        if uid and not event.is_exception:
            if event.cancelled:
                if self.ical_uids.get(uid) == event.id:
                    del self.ical_uids[uid]
            else:
                self.ical_uids[uid] = event.id
        self.log_seqs.append(event.seq)
        self.log_ids.append(event.id)
        if len(self.log_ids) > 2 * len(self.events) + 64:
            self._compact()

    def changed_after(self, seq: int) -> int:
        """Index in the change log of the first entry with a sequence greater than ``seq``."""
        return bisect.bisect_right(self.log_seqs, seq)

    def live_entry(self, index: int) -> StoredEvent | None:
        """The event at log position ``index`` if that entry is its latest change, else ``None``."""
        event = self.events.get(self.log_ids[index])
        if event is None or event.seq != self.log_seqs[index]:
            return None
        return event

    def _compact(self) -> None:
        ordered = sorted(self.events.values(), key=lambda e: e.seq)
        self.log_seqs = [e.seq for e in ordered]
        self.log_ids = [e.id for e in ordered]

    def entry(self) -> dict[str, Any]:
        """This calendar as a ``CalendarListEntry``."""
        data: dict[str, Any] = {
            "kind": "calendar#calendarListEntry",
            "etag": f'"{int(hashlib.sha256(self.id.encode()).hexdigest()[:12], 16)}"',
            "id": self.id,
            "summary": self.summary,
            "timeZone": self.time_zone,
            "accessRole": self.access_role,
            "colorId": "14",
            "backgroundColor": "#9fe1e7",
            "foregroundColor": "#000000",
            "selected": True,
            "defaultReminders": [{"method": "popup", "minutes": 10}] if self.access_role == "owner" else [],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        if self.description:
            data["description"] = self.description
        if self.primary:
            data["primary"] = True
        return data


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise GoogleApiError(400, f"Invalid time zone definition: {name}", "timeZoneInvalid") from exc


def parse_rfc3339(value: str, what: str = "value") -> datetime:
    """An RFC 3339 timestamp with a mandatory offset (``Z`` or ``+hh:mm``)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise GoogleApiError(400, f"Invalid {what}: {value}", "invalid") from exc
    if parsed.tzinfo is None:
        raise GoogleApiError(400, f"Invalid {what}: {value} (a time zone offset is required)", "invalid")
    return parsed


def format_rfc3339(moment: datetime) -> str:
    """``2026-11-26T08:15:00.123Z``: how Google writes ``created`` and ``updated``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def moment_of(when: dict[str, Any], fallback_zone: str) -> datetime | date:
    """The instant (or all-day date) an ``EventDateTime`` names."""
    if "date" in when and when["date"] is not None:
        try:
            return date.fromisoformat(str(when["date"]))
        except ValueError as exc:
            raise GoogleApiError(400, f"Invalid date: {when['date']}", "invalid") from exc
    raw = when.get("dateTime")
    if not raw:
        raise GoogleApiError(400, "Missing time: an EventDateTime needs date or dateTime", "required")
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError as exc:
        raise GoogleApiError(400, f"Invalid dateTime: {raw}", "invalid") from exc
    if parsed.tzinfo is None:
        name = when.get("timeZone") or fallback_zone
        if not when.get("timeZone"):
            raise GoogleApiError(400, "Missing time zone definition for start time.", "timeZoneRequired")
        parsed = parsed.replace(tzinfo=zone(str(name)))
    return parsed
