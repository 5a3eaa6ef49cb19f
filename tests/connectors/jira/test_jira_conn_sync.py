"""The Jira connector against the simulator: cost, boundaries, moves, pacing, permissions."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from contract.connector_contract import read_all  # type: ignore[import-not-found]
from pydantic import SecretStr

from app.connectors.common import RetryPolicy
from app.connectors.jira import ORIGIN_PROPERTY, JiraConnector
from app.connectors.jira.client import ID_PAGE_SIZE, PAGE_SIZE, UnsupportedJira
from app.connectors.jira.cursor import IssueCursor
from app.models import WorkItem
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator
from app.sandbox.world import TeamWorld
from app.settings import JiraSettings
from tests.waiting import eventually


async def test_a_no_change_incremental_read_costs_one_call_per_partition(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    _, cursor, _ = await read_all(connector, "issues", "CHK", None)
    since = sim.log.last_seq
    changes, _, pages = await read_all(connector, "issues", "CHK", cursor)
    requests = sim.log.since(since)
    assert changes == []
    assert [(r.method, r.path) for r in requests] == [("POST", "/rest/api/2/search/jql")]
    assert sum(p.api_calls for p in pages) == 1


async def test_a_full_read_asks_for_the_largest_page_and_only_the_mapped_fields(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    sim.search_log.clear()
    changes, _, _ = await read_all(connector, "issues", "CHK", None)
    assert len(changes) == sim.world.issue_count
    (search,) = sim.search_log
    assert search["maxResults"] == PAGE_SIZE == 100
    assert "*all" not in search["fields"] and "comment" not in search["fields"]
    assert {"summary", "status", "updated", "customfield_10020", "customfield_10016"} <= set(search["fields"])


async def test_the_census_asks_for_ids_only_in_pages_of_5000(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    sim.search_log.clear()
    refs = [ref async for batch in connector.list_refs("issues", "CHK") for ref in batch]
    assert {r.external_id for r in refs} == {str(i) for i in sim.store.issues}
    (search,) = sim.search_log
    assert search["maxResults"] == ID_PAGE_SIZE
    assert set(search["fields"]) <= {"id", "issuekey"}, "the SDK renames id to issuekey; both are id-only"


async def test_the_incremental_query_is_in_epoch_ms_and_keeps_an_issue_at_the_boundary(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    sim.edit_issue("CHK-2", summary="edited just before the read")
    _, cursor, _ = await read_all(connector, "issues", "CHK", None)
    assert cursor is not None
    read = IssueCursor.load(cursor)
    boundary = read.updated_ms
    assert boundary is not None and read.read_ms is not None
    # Another issue gets the very millisecond the cursor stopped at (indexed late, or a bulk edit).
    late = sim.issue("CHK-3")
    sim.store.touch(late, at_ms=boundary)
    sim.search_log.clear()
    changes, _, _ = await read_all(connector, "issues", "CHK", cursor)
    assert [c.external_id for c in changes] == [str(late.id)]
    jql = sim.search_log[0]["jql"]
    assert re.fullmatch(r'project = "CHK" AND updated >= \d{13} ORDER BY updated ASC, id ASC', jql), jql
    # An overlap before the later of the newest change and Jira's clock when the read began.
    assert int(re.findall(r"\d{13}", jql)[0]) == max(boundary, read.read_ms) - 60_000


async def test_a_moved_issue_keeps_its_record_id(connector: JiraConnector, sim: JiraSimulator) -> None:
    sim.add_project("OPS", "Operations")
    before = sim.issue("CHK-9")
    sim.move_issue("CHK-9", "OPS")
    changes, _, _ = await read_all(connector, "issues", "OPS", None)
    assert [(c.external_id, c.body.key if c.body else None) for c in changes] == [(str(before.id), "OPS-1")]
    (fetched,) = await connector.get_many("issues", [str(before.id)])
    assert fetched.body is not None and fetched.body.key == "OPS-1"
    census = {r.external_id async for batch in connector.list_refs("issues", "CHK") for r in batch}
    assert str(before.id) not in census


async def test_a_429_is_waited_out_for_retry_after(settings: JiraSettings, sim: JiraSimulator) -> None:
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)
        sim.chaos.rate_limit_rate = 0.0  # the limit lifts while we wait
        await asyncio.sleep(delay)

    policy = RetryPolicy(sleep=sleep, jitter_s=0.0)
    async with JiraConnector("jira", settings, policy) as conn:
        sim.chaos.update({"rate_limit_rate": 1.0, "retry_after_s": 0.4})
        since = sim.log.last_seq
        changes, _, pages = await read_all(conn, "issues", "CHK", None)
    assert len(changes) == sim.world.issue_count
    limited, retried = sim.log.since(since)
    assert (limited.status, limited.retry_after_s, retried.status) == (429, 0.4, 200)
    assert retried.time - limited.time >= 0.4
    assert slept == [0.4]
    assert sum(p.api_calls for p in pages) == 2


async def test_writes_carry_the_origin_marker_and_move_the_status(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    body = WorkItem(
        key="",
        title="From the hub",
        type="Story",
        status="In Progress",
        labels=("hub",),
        story_points=3.0,
        project="CHK",
    )
    created = await connector.create("issues", "CHK", body, origin="run-1")
    issue = sim.issue(created.external_id)
    assert issue.properties[ORIGIN_PROPERTY]["origin"] == "run-1"
    assert issue.fields["status"] == "In Progress"
    assert created.version == (await connector.get_many("issues", [created.external_id]))[0].version
    history_before = len(issue.changelog)
    updated = await connector.update(
        "issues",
        created.external_id,
        body.model_copy(update={"title": "From the hub, edited"}),
        if_version=created.version,
        origin="run-2",
    )
    assert issue.fields["summary"] == "From the hub, edited"
    assert [i["field"] for h in issue.changelog[history_before:] for i in h["items"]] == ["summary"]
    assert issue.properties[ORIGIN_PROPERTY]["origin"] == "run-2"
    await connector.delete("issues", created.external_id, if_version=updated.version)
    (gone,) = await connector.get_many("issues", [created.external_id])
    assert gone.tombstone is not None


async def test_check_names_the_missing_permissions(connector: JiraConnector, sim: JiraSimulator) -> None:
    sim.denied_permissions = {"EDIT_ISSUES"}
    result = await connector.check()
    assert not result.ok
    assert result.missing_scopes == ("CHK:EDIT_ISSUES",)


async def test_check_reports_refused_credentials_without_raising(
    sim: JiraSimulator, served: ServedApp
) -> None:
    settings = JiraSettings(
        email=sim.world.member("po").email,
        api_token=SecretStr("wrong"),
        base_url=served.url,
        projects=["CHK"],
    )
    result = await JiraConnector("jira", settings).check()
    assert not result.ok
    assert "refused the credentials" in result.detail


async def test_sprints_read_once_then_only_changes(connector: JiraConnector, sim: JiraSimulator) -> None:
    assert await connector.list_partitions("sprints") == ["1"]
    changes, cursor, _ = await read_all(connector, "sprints", "1", None)
    assert sorted(c.body.state for c in changes if c.body) == [
        "active",
        "closed",
        "closed",
        "future",
        "future",
    ]
    assert (await read_all(connector, "sprints", "1", cursor))[0] == []
    sim.store.sprints[4].goal = "A new goal"
    again, _, _ = await read_all(connector, "sprints", "1", cursor)
    assert [c.external_id for c in again] == ["4"]


@pytest.mark.parametrize("stream", ["issues"])
async def test_get_many_tombstones_a_deleted_issue(
    connector: JiraConnector, sim: JiraSimulator, stream: str
) -> None:
    victim = sim.issue("CHK-12")
    sim.delete_issue(victim.key)
    alive = sim.issue("CHK-13")
    got = {c.external_id: c for c in await connector.get_many(stream, [str(victim.id), str(alive.id)])}
    assert got[str(victim.id)].tombstone is not None
    assert got[str(alive.id)].body is not None
    assert json.loads(json.dumps(got[str(alive.id)].raw))["key"] == "CHK-13"


async def test_a_full_read_asks_for_the_next_page_before_handing_over_this_one(
    fast_policy: RetryPolicy,
) -> None:
    sim = JiraSimulator(TeamWorld(seed=5, scale=6))  # 240 issues: three pages
    served = serve_in_thread(sim.app)
    try:
        settings = JiraSettings(email=sim.world.member("po").email, api_token=SecretStr(DEFAULT_API_TOKEN),
                                base_url=served.url, projects=[sim.world.project_key])
        async with JiraConnector("jira", settings, fast_policy) as connector:
            sim.search_log.clear()
            pages = connector.read_changes("issues", sim.world.project_key, None)
            first = await anext(pages)
            assert len(first.changes) == PAGE_SIZE and first.api_calls == 1
            # Jira prepares page 2 while the hub maps and commits page 1.
            await eventually(lambda: len(sim.search_log) == 2)
            second = await anext(pages)
            assert second.api_calls == 1
            await eventually(lambda: len(sim.search_log) == 3)
            await pages.aclose()  # stopped early: nothing more is asked for, nothing left running
            await asyncio.sleep(0.05)
            assert len(sim.search_log) == 3
            assert [s.get("nextPageToken") is None for s in sim.search_log] == [True, False, False]
    finally:
        served.stop()


async def test_a_full_read_counts_one_call_a_page(connector: JiraConnector, sim: JiraSimulator) -> None:
    sim.search_log.clear()
    _, _, pages = await read_all(connector, "issues", "CHK", None)
    assert sum(p.api_calls for p in pages) == len(sim.search_log) == len(pages)


@pytest.mark.parametrize("deployment", ["Server", "DataCenter"])
async def test_a_self_managed_jira_is_refused_with_a_reason_before_any_read(
    sim: JiraSimulator, settings: JiraSettings, deployment: str
) -> None:
    # The connector reads through Cloud's enhanced search, which a self-managed site does not have.
    sim.deployment_type = deployment
    with pytest.raises(UnsupportedJira, match=f"a {deployment} deployment; the connector reads Jira Cloud only"):
        async with JiraConnector("jira", settings):
            pass
    assert not sim.search_log

    result = await JiraConnector("jira", settings).check()
    assert not result.ok and "Jira Cloud only" in result.detail
