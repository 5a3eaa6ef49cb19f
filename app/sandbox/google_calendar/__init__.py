"""A stateful simulator of Google Calendar API v3, seeded with the team's calendars.

See :mod:`.simulator` for the admin surface and :mod:`.meetings` for the meeting list
(and iCalUID scheme) the Outlook simulator shares.
"""

from app.sandbox.google_calendar.auth import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
)
from app.sandbox.google_calendar.meetings import TeamMeeting, ical_uid_for, team_meetings
from app.sandbox.google_calendar.simulator import GoogleCalendarSimulator

__all__ = [
    "SANDBOX_ACCESS_TOKEN",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "GoogleCalendarSimulator",
    "TeamMeeting",
    "ical_uid_for",
    "team_meetings",
]
