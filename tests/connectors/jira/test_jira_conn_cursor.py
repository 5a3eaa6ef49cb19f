"""The Jira cursor's floor against the simulator: a quiet cycle after a burst, late indexing,
a read cut off half way, and reads by id while search lags behind."""

from __future__ import annotations

import asyncio
import time

import pytest
from contract.connector_contract import read_all  # type: ignore[import-not-found]

from app.connectors.jira import JiraConnector
from app.connectors.jira.client import PAGE_SIZE
from app.connectors.jira.cursor import IssueCursor
from app.sandbox.jira import JiraSimulator
from app.sandbox.world import TeamWorld
from app.settings import JiraSettings

OVERLAP_S = 1.0
"""Short, so that a test can wait until a burst lies more than one overlap in the past."""


@pytest.fixture
def sim() -> JiraSimulator:
    return JiraSimulator(TeamWorld(seed=5, scale=6))  # 240 issues: three pages


@pytest.fixture
def settings(settings: JiraSettings) -> JiraSettings:
    return settings.model_copy(update={"overlap_s": OVERLAP_S})


def _burst(sim: JiraSimulator, count: int, label: str) -> set[str]:
    """Edit the first ``count`` issues now; their ids."""
    edited = set()
    for n in range(1, count + 1):
        issue = sim.edit_issue(f"CHK-{n}", summary=f"{label} {n}")
        edited.add(str(issue.id))
    return edited


async def _past_the_overlap(sim: JiraSimulator) -> None:
    """Until Jira's clock, as its ``Date`` header gives it, is an overlap past the last edit: the
    header has whole seconds, and the sandbox's server refreshes it once a second (up to ~1 s old)."""
    deadline = sim.store.last_ms + OVERLAP_S * 1000 + 3000
    while time.time() * 1000 <= deadline:  # noqa: ASYNC110 - waiting for the clock itself
        await asyncio.sleep(0.05)


async def test_quiet_cycles_after_a_burst_read_it_once_more_then_cost_one_call(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    _, cursor, _ = await read_all(connector, "issues", "CHK", None)
    edited = _burst(sim, 2 * PAGE_SIZE + 10, "burst")
    changes, cursor, pages = await read_all(connector, "issues", "CHK", cursor)
    assert {c.external_id for c in changes} == edited
    assert sum(p.api_calls for p in pages) == 3
    await _past_the_overlap(sim)

    # The read that found the burst began within an overlap of it: search may not have shown
    # all of it yet, so the next read looks at that window once more (and finds nothing new).
    changes, cursor, pages = await read_all(connector, "issues", "CHK", cursor)
    assert changes == [] and sum(p.api_calls for p in pages) == 3
    # That read began more than an overlap after the burst: from now on the burst is behind the floor.
    for _ in range(2):
        sim.search_log.clear()
        changes, cursor, pages = await read_all(connector, "issues", "CHK", cursor)
        assert changes == []
        assert sum(p.api_calls for p in pages) == 1 == len(sim.search_log)


async def test_an_issue_indexed_late_is_still_read(connector: JiraConnector, sim: JiraSimulator) -> None:
    _, cursor, _ = await read_all(connector, "issues", "CHK", None)
    sim.index_lag_ms = 1500  # less than the overlap would miss nothing; more than the gap between reads
    late = sim.edit_issue("CHK-7", summary="indexed late")
    sim.edit_issue("CHK-8", summary="indexed late too")
    changes, cursor, _ = await read_all(connector, "issues", "CHK", cursor)
    assert changes == [], "search does not show the edits yet"
    assert IssueCursor.load(cursor).read_ms is not None, "a complete read records when it began"

    await asyncio.sleep(1.6)
    sim.index_lag_ms = 0
    changes, _, _ = await read_all(connector, "issues", "CHK", cursor)
    assert {c.external_id for c in changes} == {str(late.id), str(sim.issue("CHK-8").id)}
    assert {c.body.title for c in changes if c.body is not None} == {"indexed late", "indexed late too"}


async def test_a_read_cut_off_half_way_keeps_the_floor_of_the_last_complete_read(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    _, cursor, _ = await read_all(connector, "issues", "CHK", None)
    complete = IssueCursor.load(cursor)
    assert complete.read_ms is not None
    await _past_the_overlap(sim)
    edited = _burst(sim, 2 * PAGE_SIZE + 10, "cut off")

    pages = connector.read_changes("issues", "CHK", cursor)
    first = await anext(pages)
    await pages.aclose()  # the hub stopped (or died) after committing the first page
    half = IssueCursor.load(first.cursor_after)
    assert half.read_ms == complete.read_ms, "only a read's last page may move the floor on"
    assert len(first.changes) == PAGE_SIZE

    rest, _, _ = await read_all(connector, "issues", "CHK", first.cursor_after)
    assert {c.external_id for c in first.changes} | {c.external_id for c in rest} == edited


async def test_a_read_by_id_sees_an_issue_search_does_not_show_yet(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    sim.index_lag_ms = 60_000
    issue = sim.edit_issue("CHK-5", summary="just changed")
    created = sim.create_issue("CHK", {"summary": "just created", "issuetype": "Task"})
    sim.search_log.clear()
    found = await connector.get_many("issues", [str(issue.id), str(created.id)])
    assert [c.body.title if c.body is not None else None for c in found] == ["just changed", "just created"]
    assert sim.search_log[0].get("reconcileIssues") == [issue.id, created.id]


async def test_a_page_counts_its_own_calls_while_a_read_by_id_shares_the_client(
    connector: JiraConnector, sim: JiraSimulator
) -> None:
    sim.chaos.update({"latency_ms": 300})  # the next page's request is surely still out below
    pages = connector.read_changes("issues", "CHK", None)
    first = await anext(pages)
    await asyncio.sleep(0.05)  # page 2's request is out
    found = await connector.get_many("issues", [str(sim.issue("CHK-1").id)])  # a webhook's read meanwhile
    assert found[0].body is not None
    sim.chaos.update({"latency_ms": 0})
    rest = [page async for page in pages]
    assert [p.api_calls for p in [first, *rest]] == [1, 1, 1]
