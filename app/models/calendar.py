"""Calendar events from Google Calendar and Outlook."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from app.models._base import Body


class EventStatus(StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class ResponseStatus(StrEnum):
    NEEDS_ACTION = "needs_action"
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"


class Attendee(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str
    name: str | None = None
    response: ResponseStatus = ResponseStatus.NEEDS_ACTION
    optional: bool = False


class CalendarEvent(Body):
    kind: Literal["calendar_event"] = "calendar_event"
    calendar: str
    title: str
    description: str = ""
    start: AwareDatetime
    end: AwareDatetime
    all_day: bool = False
    location: str | None = None
    online_meeting_url: str | None = None
    organizer: str | None = None
    attendees: tuple[Attendee, ...] = ()
    recurrence: tuple[str, ...] = ()
    series_id: str | None = None
    status: EventStatus = EventStatus.CONFIRMED
    ical_uid: str | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> CalendarEvent:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self
