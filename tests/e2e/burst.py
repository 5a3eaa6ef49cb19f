"""A burst of team activity in every simulator, made as users would make it (mutation methods).

Each function returns the ``(connector, stream, external id)`` of the changes the
connector's documentation says an incremental read cannot see, so the test can name
them exactly before it runs what a deployment runs for them (the census).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.connectors.outlook.connector import OutlookConnector
from app.models import hub_id_for
from app.sandbox.confluence.simulator import ConfluenceSimulator
from app.sandbox.google_calendar.instances import expand
from app.sandbox.google_calendar.meetings import ical_uid_for
from app.sandbox.google_calendar.simulator import GoogleCalendarSimulator
from app.sandbox.graph.model import occurrence_id
from app.sandbox.graph.simulator import GraphSimulator
from app.sandbox.jira.model import STORY_POINTS_FIELD
from app.sandbox.jira.simulator import JiraSimulator
from app.sandbox.slack.simulator import SlackSimulator
from app.sandbox.slack.timestamps import ts_str

__all__ = [
    "CensusOnly",
    "confluence_burst",
    "google_burst",
    "jira_burst",
    "newest_message",
    "outlook_burst",
    "slack_burst",
]

CensusOnly = set[tuple[str, str, str]]


def jira_burst(sim: JiraSimulator) -> CensusOnly:
    sim.create_issue(
        "CHK",
        {
            "summary": "Retry failed card payments",
            "issuetype": "Story",
            "labels": ["payments"],
            "assignee": sim.world.member("dev2").jira_account_id,
        },
    )
    sim.create_issue("OPS", {"summary": "Rotate the payment gateway keys", "issuetype": "Task"})
    sim.edit_issue("CHK-5", summary="Checkout: remember the last card", labels=["ux", "cards"])
    estimate: dict[str, Any] = {STORY_POINTS_FIELD: 8.0, "duedate": "2026-12-24"}
    sim.edit_issue("CHK-6", **estimate)
    sim.transition_issue("CHK-7", "In Review")
    sim.transition_issue("CHK-8", "To Do")
    sim.add_comment("CHK-9", "Moved to next sprint")  # bumps ``updated``: a new version, same body
    moved = sim.issue("CHK-10")
    sim.move_issue("CHK-10", "OPS")
    assert moved.project_key == "OPS"
    deleted = sim.issue("CHK-11")
    sim.delete_issue("CHK-11")
    # The id-less JQL read cannot see a delete: the census (or the issue_deleted webhook) does.
    return {("jira", "issues", str(deleted.id))}


def confluence_burst(sim: ConfluenceSimulator) -> CensusOnly:
    sim.create_page(
        "Runbook: payment outage", "<p>Call the provider; page the on-call.</p>", "CHK", labels=("runbook",)
    )
    sim.create_page("Welcome aboard", "<p>Read the handbook first.</p>", "TEAM")
    sim.edit_page(
        "98310", body="<p>Card form v2: 3-D Secure on every card.</p>", title="Spec: Payment form v2"
    )
    sim.edit_page("98319", body="<p>Rota moves to weekly shifts.</p>", as_member="dev1")
    # Status changes create no version and do not move a page in modified-date order:
    # the connector documents they show through full reads and the census only.
    sim.trash_page("98311")
    sim.archive_page("98312")
    sim.purge_page("98313")
    return {("confluence", "pages", pid) for pid in ("98311", "98312", "98313")}


def newest_message(sim: SlackSimulator, channel: str, *, with_replies: bool) -> str:
    ws = sim.workspace
    for ts in reversed(ws.top[channel]):
        message = ws.messages[channel][ts]
        if message.get("subtype") is None and bool(message.get("reply_count")) == with_replies:
            return ts_str(ts)
    raise LookupError(f"no {'thread' if with_replies else 'plain message'} in {channel}")


def slack_burst(sim: SlackSimulator) -> CensusOnly:
    checkout, dev = sim.channel_id("team-checkout"), sim.channel_id("dev")
    thread = newest_message(sim, checkout, with_replies=True)
    plain = newest_message(sim, checkout, with_replies=False)
    sim.post_message(checkout, "Heads-up: CHK-5 changes the card form", user="po")
    sim.post_message(dev, "Build is green again", user="dev3")
    sim.post_message(checkout, "Added the 3-D Secure cases", user="qa", thread_ts=thread)
    sim.post_message(
        dev, "Which branch has the fix?", user="dev1", thread_ts=newest_message(sim, dev, with_replies=False)
    )
    sim.edit_message(checkout, plain, "Edited: release moved to Thursday", user=None)
    sim.add_reaction(checkout, plain, "eyes", user="dev2")
    replies = sim.workspace.threads[checkout][int(thread.replace(".", ""))]
    sim.delete_message(checkout, replies[0])
    sim.delete_message(dev, newest_message(sim, dev, with_replies=False))
    return set()


def google_burst(sim: GoogleCalendarSimulator) -> CensusOnly:
    team = sim.team_calendar
    po = sim.world.member("po").email
    now = datetime.now(UTC).replace(microsecond=0)
    sim.create_event(
        team,
        {
            "summary": "Incident retro",
            "start": {"dateTime": (now + timedelta(days=1)).isoformat()},
            "end": {"dateTime": (now + timedelta(days=1, hours=1)).isoformat()},
            "attendees": [{"email": sim.world.member("dev1").email}],
        },
    )
    sim.create_event(
        po,
        {
            "summary": "Dentist",
            "start": {"date": (now + timedelta(days=3)).date().isoformat()},
            "end": {"date": (now + timedelta(days=4)).date().isoformat()},
        },
    )
    events = {
        e.resource.get("summary"): e
        for e in sim.store.calendar(team).events.values()
        if "recurringEventId" not in e.resource
    }
    demo = events["Stakeholder demo"].resource
    shifted = {k: _shift(demo[k], timedelta(hours=2)) for k in ("start", "end")}
    sim.edit_event(team, demo["id"], shifted)  # the meeting moves
    sim.cancel_event(team, events["Load test results"].resource["id"])
    scrum = next(
        e
        for e in sim.store.calendar(team).events.values()
        if e.resource.get("iCalUID") == ical_uid_for(sim.world, "daily-scrum") and e.is_master
    )
    upcoming = expand(sim.store.calendar(team), scrum, now, now + timedelta(days=14), False, now)
    plain = [
        i for i in upcoming if "recurringEventId" in i and i["id"] not in sim.store.calendar(team).events
    ]
    sim.cancel_event(team, plain[0]["id"])  # one instance of the daily scrum
    sim.edit_event(
        team, plain[1]["id"], {k: _shift(plain[1][k], timedelta(minutes=30)) for k in ("start", "end")}
    )
    return set()


def _shift(when: dict[str, Any], by: timedelta) -> dict[str, Any]:
    moved = datetime.fromisoformat(str(when["dateTime"]).replace("Z", "+00:00")) + by
    return {**when, "dateTime": moved.isoformat()}


def outlook_burst(sim: GraphSimulator, connector: OutlookConnector) -> CensusOnly:
    window = connector._window()
    start = datetime.fromisoformat(window["startDateTime"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(window["endDateTime"].replace("Z", "+00:00"))
    now = datetime.now(UTC).replace(microsecond=0)
    sim.create_event(
        "po",
        {
            "subject": "Vendor call",
            "body": {"contentType": "html", "content": "<p>Fees</p>"},
            "start": {"dateTime": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {
                "dateTime": (now + timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
        },
    )
    events = sim.events_of("po")
    singles = [e for e in events if not e.is_series and e.start > now and e.end < end]
    sim.move_event(singles[0].id, timedelta(hours=1))
    sim.update_event(singles[1].id, {"subject": singles[1].subject + " (moved online)"})
    sim.cancel_event(singles[2].id)  # the organizer cancels: still listed, isCancelled
    sim.delete_event(singles[3].id)  # gone: @removed
    scrum = next(e for e in events if e.is_series and e.subject == "Daily scrum")
    days = [d for d in scrum.occurrences(max(start, now), end)]
    sim.cancel_event(occurrence_id(scrum.id, days[0]))  # one instance of the daily scrum
    sim.move_event(occurrence_id(scrum.id, days[1]), timedelta(minutes=30))
    return set()


def hub_ids(census_only: CensusOnly) -> set[str]:
    return {hub_id_for(c, s, e) for c, s, e in census_only}
