"""A full sync of the seeded world: the hub equals the sandbox, and each listing asks for the largest page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest

from app.sandbox.common.requestlog import RequestLogEntry
from app.sandbox.graph.odata import MAX_PAGE_SIZE as GRAPH_MAX_PAGE
from app.sandbox.jira.routes.search import ID_ONLY_MAX_RESULTS, MAX_RESULTS
from app.sandbox.jira.simulator import JiraSimulator
from app.sandbox.truth import format_differences
from app.storage.protocol import RunStatus
from e2e.kit import Rig
from e2e.spies import record_graph_page_sizes, record_slack_limits

pytestmark = pytest.mark.e2e


def _query(entry: RequestLogEntry) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(entry.query).items()}


async def test_full_sync_of_every_pair_equals_the_sandbox_ground_truth(rig: Rig) -> None:
    runs = await rig.sync_all()

    assert {p: r.status for p, r in runs.items()} == {p: RunStatus.SUCCEEDED for p in rig.pair_ids}
    differences = rig.differences()
    assert differences == [], format_differences(differences)
    # Not an empty world compared with an empty hub: every connector brought records in.
    for name in rig.hub.connectors:
        assert rig.hub.db.count_records(connector=name) > 0, name


async def test_full_sync_asks_every_api_for_its_largest_page(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_limits = record_slack_limits(
        monkeypatch, ["conversations.history", "conversations.replies", "conversations.list", "users.list"]
    )
    graph_pages = record_graph_page_sizes(monkeypatch)
    jira = rig.sandbox.simulators["jira"]
    assert isinstance(jira, JiraSimulator)
    jira.search_log.clear()
    marks = rig.marks()

    await rig.sync_all()
    # The first backfill needs no census listing (nothing older in the hub can have vanished);
    # a full resync of the now populated hub lists every partition's ids for its census.
    await rig.sync_all(full=True)
    calls = rig.requests_since(marks)

    # Jira: 100 issues a page with fields, 5000 ids a page for the id-only census.
    # (the jira SDK rewrites a requested field ``id`` into ``issuekey``, the field claiming that clause)
    id_only = [s for s in jira.search_log if set(s["fields"] or ["id"]) <= {"id", "issuekey"}]
    with_fields = [s for s in jira.search_log if s not in id_only]
    assert with_fields and id_only
    assert {s["maxResults"] for s in with_fields} == {MAX_RESULTS}
    assert {s["maxResults"] for s in id_only} == {ID_ONLY_MAX_RESULTS}
    agile = [e for e in calls["jira"] if e.path.startswith("/rest/agile/1.0/board")]
    assert agile and all(int(_query(e)["maxResults"]) >= 50 for e in agile)  # the agile API caps at 50

    # Confluence: 250 pages per listing (reads and census).
    listings = [e for e in calls["confluence"] if re.fullmatch(r"/wiki/api/v2/spaces/\d+/pages", e.path)]
    assert listings and {_query(e)["limit"] for e in listings} == {"250"}

    # Slack: history 999 ("Maximum of 999"), replies 1000, channels 999 ("under 1000"), users 200 (advised).
    assert slack_limits["conversations.history"] and set(slack_limits["conversations.history"]) == {"999"}
    assert slack_limits["conversations.replies"] and set(slack_limits["conversations.replies"]) == {"1000"}
    assert set(slack_limits["conversations.list"]) == {"999"}
    assert set(slack_limits["users.list"]) == {"200"}

    # Google Calendar: 2500 events per events.list.
    events = [e for e in calls["google_calendar"] if e.path.endswith("/events")]
    assert events and {_query(e)["maxResults"] for e in events} == {"2500"}

    # Graph: delta rounds prefer the page size Graph honours at most; the census asks $top at that size.
    delta = [size for path, size in graph_pages if path.endswith("/calendarView/delta")]
    assert delta and set(delta) == {GRAPH_MAX_PAGE}
    views = [e for e in calls["graph"] if e.path.endswith("/calendarView")]
    assert views and {_query(e)["$top"] for e in views} == {str(GRAPH_MAX_PAGE)}
