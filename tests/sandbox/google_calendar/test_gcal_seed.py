"""The seeded team calendar follows the world: scrum at 09:15 on weekdays, sprint meetings on sprint dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app.sandbox.google_calendar import GoogleCalendarSimulator, ical_uid_for, team_meetings
from app.sandbox.world import TeamWorld


def _instances(sim: GoogleCalendarSimulator, summary: str, days: int = 28) -> list[dict[str, Any]]:
    from starlette.datastructures import QueryParams

    from app.sandbox.google_calendar.listing import list_events
    from app.sandbox.google_calendar.params import parse_list_params

    start = sim.world.local(sim.world.active_sprint_start, datetime.min.time())
    params = parse_list_params(
        QueryParams(
            {
                "singleEvents": "true",
                "maxResults": "2500",
                "timeMin": start.isoformat(),
                "timeMax": (start + timedelta(days=days)).isoformat(),
            }
        )
    )
    with sim.lock:
        items = list_events(sim.store.calendar(sim.team_calendar), params, sim.store.seq, sim.store.now())[
            "items"
        ]
    return [i for i in items if i.get("summary") == summary]


def test_daily_scrum_is_at_0915_local_on_weekdays_only() -> None:
    sim = GoogleCalendarSimulator(TeamWorld(anchor=date(2026, 3, 25)))  # spans the March DST change
    scrums = _instances(sim, "Daily scrum")
    assert len(scrums) == 20
    for scrum in scrums:
        start = datetime.fromisoformat(scrum["start"]["dateTime"]).astimezone(sim.world.tz)
        assert (start.hour, start.minute) == (9, 15) and start.weekday() < 5


def test_sprint_planning_and_review_fall_on_the_active_sprint_dates() -> None:
    world = TeamWorld(anchor=date(2026, 11, 26))
    sim = GoogleCalendarSimulator(world)
    planning = [
        datetime.fromisoformat(i["start"]["dateTime"]).date() for i in _instances(sim, "Sprint planning")
    ]
    review = [datetime.fromisoformat(i["start"]["dateTime"]).date() for i in _instances(sim, "Sprint review")]
    assert planning[0] == world.active_sprint_start
    assert review[0] == world.active_sprint_start + timedelta(days=11)


def test_seeded_exceptions_are_kept_apart_from_their_series() -> None:
    sim = GoogleCalendarSimulator()
    events = sim.store.calendar(sim.team_calendar).events.values()
    exceptions = [e.resource for e in events if e.is_exception]
    assert {e["status"] for e in exceptions} == {"confirmed", "cancelled"}
    assert len(exceptions) == 3
    assert {e["iCalUID"] for e in exceptions} <= {
        ical_uid_for(sim.world, "daily-scrum"),
        ical_uid_for(sim.world, "refinement"),
    }


def test_meetings_shared_with_outlook_carry_the_deterministic_ical_uid() -> None:
    world = TeamWorld(seed=7)
    shared = [m for m in team_meetings(world) if "outlook" in m.systems]
    assert {"sprint-planning", "sprint-review"} <= {m.key for m in shared}
    sim = GoogleCalendarSimulator(world)
    uids = {e.resource["iCalUID"] for e in sim.store.calendar(sim.team_calendar).events.values()}
    assert {m.ical_uid for m in shared} <= uids
    assert all(m.ical_uid == f"passerelle-7-{m.key}@orbit.example" for m in shared)
    assert team_meetings(TeamWorld(seed=7)) == team_meetings(TeamWorld(seed=7, anchor=world.anchor))


def test_seeding_is_deterministic_for_a_seed() -> None:
    anchor = date(2026, 11, 26)
    first = GoogleCalendarSimulator(TeamWorld(seed=3, anchor=anchor))
    second = GoogleCalendarSimulator(TeamWorld(seed=3, anchor=anchor))
    ids = [sorted(s.store.calendar(s.team_calendar).events) for s in (first, second)]
    assert ids[0] == ids[1]


def test_bulk_scales_with_the_world() -> None:
    small = GoogleCalendarSimulator(TeamWorld(scale=1))
    large = GoogleCalendarSimulator(TeamWorld(scale=5))
    count = [len(s.store.calendar(s.team_calendar).events) for s in (small, large)]
    assert count[1] - count[0] == 8 * 4
