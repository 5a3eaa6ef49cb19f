"""The seeded Outlook tenant: one mailbox per team member, the team's meetings in each.

The team meetings come from :func:`app.sandbox.google_calendar.team_meetings`, the list
the Google simulator seeds from, so a meeting in both tools carries the same iCalUID
(``passerelle-<seed>-<key>@<domain>``) and the hub can link the copies. Outlook holds the
meetings marked for Outlook (sprint planning and review, some one-offs) and, as the
architecture asks, the daily scrum (09:15) and refinement (noon) as well. Every
attendee's calendar has its own copy (its own event id); the organizer's copy has
``isOrganizer``. Each mailbox also has a few Outlook-only events (1:1s, focus time).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from app.sandbox.google_calendar import TeamMeeting, ical_uid_for, team_meetings
from app.sandbox.graph.model import StoredEvent
from app.sandbox.graph.store import GraphStore
from app.sandbox.graph.timezones import windows_name
from app.sandbox.world import TeamWorld

__all__ = ["OUTLOOK_MEETINGS", "meeting_ical_uid", "outlook_meetings", "seed_store"]

OUTLOOK_MEETINGS = frozenset({"daily-scrum", "refinement"})
"""Team meetings Outlook holds besides those the shared list marks for Outlook."""
_RESPONSES = ["accepted", "accepted", "accepted", "tentativelyAccepted", "none", "declined"]
_TOPICS = [
    "1:1",
    "Focus time",
    "Payments provider sync",
    "Design critique",
    "Incident review",
    "Hiring interview",
    "Architecture chat",
]
_DAYS = {
    "MO": "monday",
    "TU": "tuesday",
    "WE": "wednesday",
    "TH": "thursday",
    "FR": "friday",
    "SA": "saturday",
    "SU": "sunday",
}


def meeting_ical_uid(world: TeamWorld, key: str) -> str:
    return ical_uid_for(world, key)


def outlook_meetings(world: TeamWorld) -> list[TeamMeeting]:
    return [m for m in team_meetings(world) if "outlook" in m.systems or m.key in OUTLOOK_MEETINGS]


def _recurrence(rrule: str | None, first: datetime, tz: str) -> dict[str, Any] | None:
    """The Graph ``patternedRecurrence`` of the simple weekly/daily RRULEs the team uses."""
    if rrule is None:
        return None
    parts = dict(p.split("=", 1) for p in rrule.removeprefix("RRULE:").split(";"))
    kind = {"WEEKLY": "weekly", "DAILY": "daily"}[parts["FREQ"]]
    days = [_DAYS[d] for d in parts.get("BYDAY", "").split(",") if d]
    return {
        "pattern": {
            "type": kind,
            "interval": int(parts.get("INTERVAL", 1)),
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": days,
            "firstDayOfWeek": "monday",
            "index": "first",
        },
        "range": {
            "type": "noEnd",
            "startDate": first.date().isoformat(),
            "endDate": "0001-01-01",
            "recurrenceTimeZone": tz,
            "numberOfOccurrences": 0,
        },
    }


def seed_store(store: GraphStore, world: TeamWorld) -> None:
    rng = world.rng("graph")
    members = world.members
    users = {m.key: store.add_user(m.key, m.email, m.name) for m in members}
    organizer = world.member("po")
    tz_name = windows_name(world.timezone)
    created = datetime.combine(world.active_sprint_start - timedelta(days=40), time(8), tzinfo=UTC)

    for meeting in outlook_meetings(world):
        host = world.member(meeting.organizer)
        people = [
            {
                "type": "required",
                "status": {
                    "response": "organizer" if key == host.key else rng.choice(_RESPONSES),
                    "time": "0001-01-01T00:00:00Z",
                },
                "emailAddress": {"name": world.member(key).name, "address": world.member(key).email},
            }
            for key in meeting.attendees
        ]
        start = meeting.start.astimezone(UTC)
        for key in meeting.attendees:
            user = users[key]
            store.insert(
                StoredEvent(
                    id=store.new_event_id(user.id),
                    user_id=user.id,
                    calendar_id=store.default_calendar(user.id).id,
                    subject=meeting.title,
                    start=start,
                    end=start + meeting.duration,
                    start_tz=tz_name,
                    end_tz=tz_name,
                    body_html=f"<p>{meeting.description}</p>" if meeting.description else "",
                    location=meeting.location or "",
                    organizer=(host.name, host.email),
                    attendees=people,
                    online_meeting_url=f"https://teams.microsoft.com/l/meetup-join/{world.seed}-{meeting.key}"
                    if meeting.online
                    else None,
                    recurrence=_recurrence(meeting.rrule, meeting.start, tz_name),
                    ical_uid=meeting.ical_uid,
                    is_all_day=meeting.all_day,
                    is_organizer=key == host.key,
                    created=created,
                    modified=created,
                ),
                notify=False,
            )

    anchor = datetime.combine(world.anchor, time(0), tzinfo=world.tz)
    for member in members:
        user = users[member.key]
        count = (12 if member.key == "po" else 4) * world.scale
        for n in range(count):
            day = anchor + timedelta(days=rng.randint(-20, 40))
            if day.weekday() >= 5:
                day += timedelta(days=7 - day.weekday())
            start = day.replace(hour=rng.choice([10, 11, 14, 15, 16]), minute=rng.choice([0, 30])).astimezone(
                UTC
            )
            other = rng.choice([m for m in members if m.key != member.key])
            topic = rng.choice(_TOPICS)
            subject = f"1:1 {member.name.split()[0]} / {other.name.split()[0]}" if topic == "1:1" else topic
            event = StoredEvent(
                id=store.new_event_id(user.id),
                user_id=user.id,
                calendar_id=store.default_calendar(user.id).id,
                subject=subject,
                start=start,
                end=start + timedelta(minutes=rng.choice([30, 45, 60])),
                start_tz=tz_name,
                end_tz=tz_name,
                body_html=f"<p>{subject}</p>",
                location=rng.choice(["", "Room Ada", "Room Turing", "Teams"]),
                organizer=(member.name, member.email),
                attendees=[
                    {
                        "type": "required",
                        "status": {"response": "accepted", "time": "0001-01-01T00:00:00Z"},
                        "emailAddress": {"name": other.name, "address": other.email},
                    }
                ],
                ical_uid=f"passerelle-{world.seed}-outlook-{member.key}-{n}@{world.domain}",
                created=created,
                modified=created,
            )
            store.insert(event, notify=False)

    releases = store.add_calendar(users["po"].id, "Checkout Revamp releases")
    for n in range(3):
        day = world.local(world.anchor + timedelta(days=7 * n + 3), time(16)).astimezone(UTC)
        event = StoredEvent(
            id=store.new_event_id(users["po"].id),
            user_id=users["po"].id,
            calendar_id=releases.id,
            subject=f"Release 1.{n + 4} go/no-go",
            start=day,
            end=day + timedelta(minutes=30),
            start_tz=tz_name,
            end_tz=tz_name,
            body_html="<p>Release checklist review.</p>",
            location="Teams",
            organizer=(organizer.name, organizer.email),
            ical_uid=f"passerelle-{world.seed}-outlook-release-{n}@{world.domain}",
            created=created,
            modified=created,
        )
        store.insert(event, notify=False)
