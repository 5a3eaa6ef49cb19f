"""A burst of changes in every tool, then one incremental run of each pair: the hub equals the sandbox.

What an incremental read cannot see by design, the connectors document: a deleted Jira
issue (JQL lists no deletes) and a Confluence page trashed, archived or purged without
an edit (status changes create no version). A deployment catches those with the census
the engine schedules every ``census_every_runs`` runs (or, for Jira, the issue_deleted
webhook). The test names those records exactly after the incremental run, then runs the
scheduled census and demands an exact match: nothing else may differ at any point.
"""

from __future__ import annotations

import pytest

from app.connectors.outlook.connector import OutlookConnector
from app.sandbox.confluence.simulator import ConfluenceSimulator
from app.sandbox.google_calendar.simulator import GoogleCalendarSimulator
from app.sandbox.graph.simulator import GraphSimulator
from app.sandbox.jira.simulator import JiraSimulator
from app.sandbox.slack.simulator import SlackSimulator
from app.sandbox.truth import DifferenceKind, format_differences
from app.storage.protocol import RunStatus
from e2e.burst import confluence_burst, google_burst, jira_burst, outlook_burst, slack_burst
from e2e.kit import Rig

pytestmark = pytest.mark.e2e


async def test_burst_then_one_incremental_run_brings_the_hub_back_to_the_sandbox(synced: Rig) -> None:
    sims = synced.sandbox.simulators
    jira, confluence, slack = sims["jira"], sims["confluence"], sims["slack"]
    google, graph = sims["google_calendar"], sims["graph"]
    outlook = synced.hub.connectors["outlook"]
    assert isinstance(jira, JiraSimulator) and isinstance(confluence, ConfluenceSimulator)
    assert isinstance(slack, SlackSimulator) and isinstance(google, GoogleCalendarSimulator)
    assert isinstance(graph, GraphSimulator) and isinstance(outlook, OutlookConnector)
    census_only = (
        jira_burst(jira)
        | confluence_burst(confluence)
        | slack_burst(slack)
        | google_burst(google)
        | outlook_burst(graph, outlook)
    )
    before = synced.differences()
    assert len(before) > 20, format_differences(before)  # the burst is visible to the comparison

    runs = await synced.sync_all()

    assert {p: r.status for p, r in runs.items()} == {p: RunStatus.SUCCEEDED for p in synced.pair_ids}
    assert {p: r.flags for p, r in runs.items() if r.flags} == {}, "an incremental run, not a full one"
    after = synced.differences()
    left = {(d.kind, d.connector, d.stream, d.external_id) for d in after}
    assert left == {(DifferenceKind.EXTRA_IN_HUB, *key) for key in census_only}, format_differences(after)

    # What the engine runs every ``census_every_runs`` runs: incremental reads plus the census.
    census = synced.settings.sync.model_copy(update={"census_every_runs": 1})
    runs = await synced.sync_all(sync=census)

    assert {p: r.status for p, r in runs.items()} == {p: RunStatus.SUCCEEDED for p in synced.pair_ids}
    assert runs["jira-issues"].deleted == 1 and runs["confluence-pages"].deleted == 3
    final = synced.differences()
    assert final == [], format_differences(final)
