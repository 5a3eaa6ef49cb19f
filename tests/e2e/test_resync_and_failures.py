"""Dead cursors resync only their partition; a revoked token fails the run loudly and deletes nothing."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app.sandbox.google_calendar.simulator import GoogleCalendarSimulator
from app.sandbox.graph.simulator import GraphSimulator
from app.sandbox.jira.simulator import JiraSimulator
from app.sandbox.truth import format_differences
from app.storage.protocol import CursorKey, RunStatus
from e2e.kit import Rig

pytestmark = pytest.mark.e2e


async def test_an_expired_google_sync_token_resyncs_that_calendar_alone(synced: Rig) -> None:
    google = synced.sandbox.simulators["google_calendar"]
    assert isinstance(google, GoogleCalendarSimulator)
    team, po = google.team_calendar, google.world.member("po").email
    focus = next(e for e in google.store.calendar(po).events.values() if not e.cancelled)
    google.edit_event(po, focus.id, {"summary": "Focus time (no meetings)"})
    google.expire_sync_tokens(team)
    marks = synced.marks()

    run = await synced.sync("google-events")

    assert run.status is RunStatus.SUCCEEDED
    assert run.flags == [f"cursor_invalidated:google/events/{team}", "census"]
    lists = [e for e in synced.requests_since(marks)["google_calendar"] if e.path.endswith("/events")]
    by_calendar: dict[str, list[dict[str, list[str]]]] = {}
    for entry in lists:
        calendar = re.fullmatch(r"/calendars/([^/]+)/events", entry.path)
        assert calendar is not None
        by_calendar.setdefault(calendar.group(1), []).append(parse_qs(entry.query))
    others = {c: q for c, q in by_calendar.items() if c != team}
    assert len(others) == len(google.store.calendars) - 1
    assert all(len(q) == 1 and "syncToken" in q[0] for q in others.values())  # one incremental call each
    refused, *resync = by_calendar[team]
    assert "syncToken" in refused and resync and all("syncToken" not in q for q in resync)
    assert any("fields" in q for q in resync)  # ... then its census
    assert synced.hub.db.count_records("google", "events") > 0
    differences = synced.differences()
    assert differences == [], format_differences(differences)


def _refused_by_graph(delta_link: str) -> str:
    """The same delta link with its token's signature altered: Graph answers 410 syncStateNotFound."""
    query = parse_qs(urlsplit(delta_link).query)
    token = query["$deltatoken"][0]
    payload, _, signature = token.partition(".")
    forged = base64.urlsafe_b64encode(bytes(12)).decode().rstrip("=")
    assert forged != signature
    return delta_link.replace(token, f"{payload}.{forged}")


async def test_a_dead_outlook_delta_token_resyncs_that_calendar_alone(synced: Rig) -> None:
    # The Graph sandbox can expire only every token at once (a new store generation); a token
    # Graph no longer honours looks the same to the client whatever the reason: 410.
    graph = synced.sandbox.simulators["graph"]
    assert isinstance(graph, GraphSimulator)
    calendars = [c.id for c in graph.calendars("po")]
    dead = calendars[0]
    key = CursorKey("outlook", "events", dead)
    state = synced.hub.db.get_cursor(key)
    assert state is not None and state.value is not None
    with synced.hub.db.transaction() as tx:
        tx.set_cursor(key, _refused_by_graph(state.value))
    single = next(e for e in graph.events_of("po") if not e.is_series)
    graph.update_event(single.id, {"subject": "Payment provider sync (moved to Teams)"})
    marks = synced.marks()

    run = await synced.sync("outlook-events")

    assert run.status is RunStatus.SUCCEEDED
    assert run.flags == [f"cursor_invalidated:outlook/events/{dead}", "census"]
    calls = [e for e in synced.requests_since(marks)["graph"] if "/calendarView" in e.path]
    elsewhere = [e for e in calls if dead not in e.path]
    assert len(elsewhere) == len(calendars) - 1 and all("$deltatoken" in e.query for e in elsewhere)
    mine = [e for e in calls if dead in e.path]
    assert "$deltatoken" in mine[0].query and mine[0].status == 410
    assert any("startDateTime" in e.query for e in mine[1:])  # a new round over the window ...
    assert any(e.path.endswith("/calendarView") for e in mine[1:])  # ... then its census
    differences = synced.differences()
    assert differences == [], format_differences(differences)


async def test_every_expired_outlook_delta_token_resyncs_and_the_hub_stays_equal(synced: Rig) -> None:
    graph = synced.sandbox.simulators["graph"]
    assert isinstance(graph, GraphSimulator)
    graph.expire_delta_tokens()

    run = await synced.sync("outlook-events")

    assert run.status is RunStatus.SUCCEEDED
    assert sum(f.startswith("cursor_invalidated:") for f in run.flags) == len(graph.calendars("po"))
    differences = synced.differences()
    assert differences == [], format_differences(differences)


async def test_a_revoked_jira_token_fails_the_run_as_a_config_error_and_deletes_nothing(synced: Rig) -> None:
    jira = synced.sandbox.simulators["jira"]
    assert isinstance(jira, JiraSimulator)
    db = synced.hub.db
    live = {s: db.live_refs("jira", s, p) for s, p in (("issues", "CHK"), ("sprints", "1"))}
    counts = (db.count_records("jira"), db.count_records("jira", include_deleted=True))
    jira.chaos.token_expired = True  # every request now answers 401

    runs = [
        await synced.sync("jira-issues"),
        await synced.sync("jira-sprints"),
        await synced.sync("jira-issues", full=True),
    ]

    for run in runs:
        assert run.status is RunStatus.FAILED, run
        assert run.error_class == "config", (run.error_class, run.error)
        assert run.error is not None and "refused the credentials (401)" in run.error, run.error
        assert run.deleted == 0 and run.created == 0 and run.updated == 0
    assert (db.count_records("jira"), db.count_records("jira", include_deleted=True)) == counts
    assert {s: db.live_refs("jira", s, p) for s, p in (("issues", "CHK"), ("sprints", "1"))} == live
    # Nothing was lost: with the token back, the hub is still equal to the sandbox.
    jira.chaos.token_expired = False
    assert (await synced.sync("jira-issues")).status is RunStatus.SUCCEEDED
    differences = synced.differences()
    assert differences == [], format_differences(differences)
