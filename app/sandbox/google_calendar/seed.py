"""Seed the simulator from the world: a shared team calendar and one primary calendar per person.

The API user is the product owner: ``primary`` is her calendar, the team calendar is
writable, colleagues' calendars are read-only. The team calendar holds every meeting of
:func:`~app.sandbox.google_calendar.meetings.team_meetings` plus exceptions: one daily scrum
moved, one cancelled, one refinement extended.
"""

from __future__ import annotations

import random
import string
from datetime import time, timedelta
from typing import Any

from app.sandbox.google_calendar.instances import instance_id
from app.sandbox.google_calendar.meetings import TeamMeeting, series_start, team_meetings
from app.sandbox.google_calendar.model import CalendarData
from app.sandbox.google_calendar.store import EventStore
from app.sandbox.world import TeamWorld

__all__ = ["seed", "team_calendar_id"]

_RESPONSES = ["accepted"] * 7 + ["tentative", "declined", "needsAction"]


def team_calendar_id(world: TeamWorld) -> str:
    return f"team@{world.domain}"


def seed(store: EventStore, world: TeamWorld) -> None:
    rng = world.rng("google-calendar")
    team = CalendarData(
        team_calendar_id(world),
        f"{world.project_name} team",
        world.timezone,
        access_role="writer",
        description=f"Team meetings of {world.project_name}",
    )
    store.calendars[team.id] = team
    for member in world.members:
        owner = member.email == store.user_email
        store.calendars[member.email] = CalendarData(
            member.email,
            member.name,
            world.timezone,
            access_role="owner" if owner else "reader",
            primary=owner,
        )
    ids: dict[str, str] = {}
    for meeting in team_meetings(world):
        ids[meeting.key] = store.insert(
            team.id,
            _event_body(world, meeting, rng),
            world.member(meeting.organizer).email,
            organizer=_person(world, meeting.organizer),
            as_owner=True,
        )["id"]
    _seed_exceptions(store, world, team.id, ids)
    _seed_primaries(store, world, rng)


def _person(world: TeamWorld, key: str) -> dict[str, Any]:
    member = world.member(key)
    return {"email": member.email, "displayName": member.name}


def _event_body(world: TeamWorld, meeting: TeamMeeting, rng: random.Random) -> dict[str, Any]:
    if meeting.all_day:
        start: dict[str, Any] = {"date": meeting.start.date().isoformat()}
        end: dict[str, Any] = {"date": (meeting.start + meeting.duration).date().isoformat()}
    else:
        start = {"dateTime": meeting.start.isoformat(), "timeZone": world.timezone}
        end = {"dateTime": (meeting.start + meeting.duration).isoformat(), "timeZone": world.timezone}
    body: dict[str, Any] = {
        "summary": meeting.title,
        "start": start,
        "end": end,
        "iCalUID": meeting.ical_uid,
        "attendees": [
            {
                "email": world.member(key).email,
                "displayName": world.member(key).name,
                "responseStatus": "accepted" if key == meeting.organizer else rng.choice(_RESPONSES),
            }
            for key in meeting.attendees
        ],
        "extendedProperties": {"shared": {"meeting": meeting.key}},
    }
    if meeting.description:
        body["description"] = meeting.description
    if meeting.location:
        body["location"] = meeting.location
    if meeting.rrule:
        body["recurrence"] = [meeting.rrule]
    if meeting.online:
        code = "-".join("".join(rng.choice(string.ascii_lowercase) for _ in range(n)) for n in (3, 4, 3))
        url = f"https://meet.google.com/{code}"
        body["hangoutLink"] = url
        body["conferenceData"] = {
            "conferenceId": code,
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
            "entryPoints": [{"entryPointType": "video", "uri": url, "label": url.removeprefix("https://")}],
        }
    return body


def _seed_exceptions(store: EventStore, world: TeamWorld, calendar: str, ids: dict[str, str]) -> None:
    first = series_start(world)
    moved_day = first + timedelta(days=3 + 7 * 2)  # a Thursday of the sprint before the active one
    cancelled_day = first + timedelta(days=1 + 7 * 3)  # a Tuesday (team holiday)
    moved = world.local(moved_day, time(9, 15))
    store.patch(
        calendar,
        instance_id(ids["daily-scrum"], moved),
        {
            "start": {
                "dateTime": world.local(moved_day, time(9, 45)).isoformat(),
                "timeZone": world.timezone,
            },
            "end": {"dateTime": world.local(moved_day, time(10, 0)).isoformat(), "timeZone": world.timezone},
        },
        None,
        as_owner=True,
    )
    store.delete(
        calendar,
        instance_id(ids["daily-scrum"], world.local(cancelled_day, time(9, 15))),
        None,
        as_owner=True,
    )
    refinement_day = first + timedelta(days=2 + 7 * 3)
    store.patch(
        calendar,
        instance_id(ids["refinement"], world.local(refinement_day, time(12, 0))),
        {
            "summary": "Backlog refinement (extended)",
            "end": {
                "dateTime": world.local(refinement_day, time(13, 30)).isoformat(),
                "timeZone": world.timezone,
            },
        },
        None,
        as_owner=True,
    )


def _seed_primaries(store: EventStore, world: TeamWorld, rng: random.Random) -> None:
    po = world.member("po")
    first = series_start(world)
    for n, member in enumerate(world.members):
        calendar = store.calendars[member.email]
        if member.key != "po":
            start = world.local(first + timedelta(days=3), time(16, 0 if n % 2 else 30))
            store.insert(
                calendar.id,
                {
                    "summary": f"1:1 {po.name.split()[0]} / {member.name.split()[0]}",
                    "start": {"dateTime": start.isoformat(), "timeZone": world.timezone},
                    "end": {
                        "dateTime": (start + timedelta(minutes=30)).isoformat(),
                        "timeZone": world.timezone,
                    },
                    "recurrence": ["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"],
                    "attendees": [
                        {"email": po.email, "displayName": po.name, "responseStatus": "accepted"},
                        {"email": member.email, "displayName": member.name, "responseStatus": "accepted"},
                    ],
                },
                member.email,
                as_owner=True,
            )
        focus_day = world.anchor + timedelta(days=rng.randint(0, 6))
        focus = world.local(focus_day, time(14, 0))
        store.insert(
            calendar.id,
            {
                "summary": "Focus time",
                "transparency": "opaque",
                "eventType": "focusTime",
                "start": {"dateTime": focus.isoformat(), "timeZone": world.timezone},
                "end": {"dateTime": (focus + timedelta(hours=2)).isoformat(), "timeZone": world.timezone},
            },
            member.email,
            as_owner=True,
        )
        if member.key == "design":
            off = world.anchor + timedelta(days=8)
            store.insert(
                calendar.id,
                {
                    "summary": "Out of office",
                    "eventType": "outOfOffice",
                    "start": {"date": off.isoformat()},
                    "end": {"date": (off + timedelta(days=2)).isoformat()},
                },
                member.email,
                as_owner=True,
            )
