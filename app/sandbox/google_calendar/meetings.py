"""The team's meetings, shared by the Google Calendar and Outlook simulators.

Both simulators seed from :func:`team_meetings`, so a meeting that lives in both tools
(``"outlook" in meeting.systems``) carries the same iCalUID in each, and the hub can link
the two copies. The iCalUID scheme is ``passerelle-<seed>-<key>@<domain>``
(:func:`ical_uid_for`): deterministic from the world, never random.

Times are in the world's time zone. Series start two sprints before the active sprint:

========================  =====================================  ==================
meeting                   when                                   systems
========================  =====================================  ==================
daily scrum               weekdays 09:15-09:30                   google
backlog refinement        Wednesdays 12:00-13:00                 google
sprint planning           every other Monday 10:00-11:30         google, outlook
sprint review             every other Friday 14:00-15:00         google, outlook
retrospective             every other Friday 15:30-16:30         google
one-offs (8 x scale)      weekdays around the anchor date        some in outlook
========================  =====================================  ==================

Sprint planning falls on each sprint's first day and the review on its second Friday,
in step with ``TeamWorld.active_sprint_start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.sandbox.world import TeamWorld

__all__ = ["TeamMeeting", "ical_uid_for", "series_start", "team_meetings"]

_WEEKDAYS = "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


@dataclass(frozen=True)
class TeamMeeting:
    key: str
    title: str
    start: datetime
    """First occurrence (or the only one), aware, in the world's time zone; midnight for all-day."""
    duration: timedelta
    organizer: str
    """Member key (``TeamWorld.member``)."""
    attendees: tuple[str, ...]
    ical_uid: str
    rrule: str | None = None
    description: str = ""
    location: str | None = None
    online: bool = False
    all_day: bool = False
    systems: frozenset[str] = frozenset({"google"})


def ical_uid_for(world: TeamWorld, key: str) -> str:
    return f"passerelle-{world.seed}-{key}@{world.domain}"


def series_start(world: TeamWorld) -> date:
    """Monday two sprints before the active sprint: where every team series begins."""
    return world.active_sprint_start - timedelta(days=2 * world.sprint_days)


_ONE_OFFS = [
    ("Checkout UX review", ("po", "design", "dev1"), "Design studio", False, False),
    ("Payment provider sync", ("po", "dev2", "dev3"), None, True, True),
    ("Architecture deep-dive: order service", ("dev1", "dev2", "dev3"), "Room Lovelace", True, False),
    ("Release go/no-go", ("po", "qa", "dev1", "dev2"), None, True, True),
    ("Accessibility audit walkthrough", ("design", "qa", "po"), "Room Hopper", False, False),
    ("Stakeholder demo", ("po", "dev1", "design"), "Board room", True, True),
    ("Team offsite", ("po", "dev1", "dev2", "dev3", "qa", "design"), "Lyon", False, False),
    ("Load test results", ("dev3", "qa"), None, True, False),
]
"""(title, attendees (first is organizer), location, online, also in Outlook)."""


def team_meetings(world: TeamWorld) -> list[TeamMeeting]:
    everyone = tuple(m.key for m in world.members)
    builders = tuple(k for k in everyone if k != "po")
    first = series_start(world)

    def at(day: date, hh: int, mm: int) -> datetime:
        return world.local(day, time(hh, mm))

    meetings = [
        TeamMeeting(
            "daily-scrum",
            "Daily scrum",
            at(first, 9, 15),
            timedelta(minutes=15),
            "po",
            everyone,
            ical_uid_for(world, "daily-scrum"),
            _WEEKDAYS,
            description=f"15 minutes, standing. Board: {world.project_key} sprint board.",
            location="Room Ada",
            online=True,
        ),
        TeamMeeting(
            "refinement",
            "Backlog refinement",
            at(first + timedelta(days=2), 12, 0),
            timedelta(hours=1),
            "po",
            everyone,
            ical_uid_for(world, "refinement"),
            "RRULE:FREQ=WEEKLY;BYDAY=WE",
            description="Refine the top of the backlog: acceptance criteria and estimates.",
            location="Room Ada",
            online=True,
        ),
        TeamMeeting(
            "sprint-planning",
            "Sprint planning",
            at(first, 10, 0),
            timedelta(minutes=90),
            "po",
            everyone,
            ical_uid_for(world, "sprint-planning"),
            "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
            description="Pick the sprint goal and commit to the sprint backlog.",
            location="Room Ada",
            online=True,
            systems=frozenset({"google", "outlook"}),
        ),
        TeamMeeting(
            "sprint-review",
            "Sprint review",
            at(first + timedelta(days=11), 14, 0),
            timedelta(hours=1),
            "po",
            everyone,
            ical_uid_for(world, "sprint-review"),
            "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
            description="Demo the increment to stakeholders.",
            location="Board room",
            online=True,
            systems=frozenset({"google", "outlook"}),
        ),
        TeamMeeting(
            "retrospective",
            "Retrospective",
            at(first + timedelta(days=11), 15, 30),
            timedelta(hours=1),
            "dev1",
            (*builders, "po"),
            ical_uid_for(world, "retrospective"),
            "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
            location="Room Ada",
        ),
    ]
    rng = world.rng("meetings")
    for n in range(8 * world.scale):
        title, people, location, online, in_outlook = _ONE_OFFS[n % len(_ONE_OFFS)]
        day = world.anchor + timedelta(days=rng.randint(-21, 21))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        key = f"oneoff-{n + 1}"
        all_day = title == "Team offsite"
        start = at(day, 0, 0) if all_day else at(day, rng.choice([10, 11, 14, 15, 16]), rng.choice([0, 30]))
        meetings.append(
            TeamMeeting(
                key,
                title if n < len(_ONE_OFFS) else f"{title} #{n // len(_ONE_OFFS) + 1}",
                start,
                timedelta(days=1) if all_day else timedelta(minutes=rng.choice([30, 45, 60])),
                people[0],
                people,
                ical_uid_for(world, key),
                location=location,
                online=online,
                all_day=all_day,
                systems=frozenset({"google", "outlook"}) if in_outlook else frozenset({"google"}),
            )
        )
    return meetings
