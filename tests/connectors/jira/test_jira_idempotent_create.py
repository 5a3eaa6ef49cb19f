"""A Jira create carries its origin marker and write key as entity properties, and a later call told of
an earlier attempt takes the issue that attempt made instead of creating a second one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.connectors.common import RetryPolicy
from app.connectors.jira import JiraConnector
from app.connectors.jira.connector import ORIGIN_PROPERTY, WRITE_KEY_PROPERTY
from app.errors import TransientError
from app.models import WorkItem
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator
from app.settings import JiraSettings


@pytest.fixture
async def fast(settings: JiraSettings) -> AsyncIterator[JiraConnector]:
    async with JiraConnector("jira", settings, RetryPolicy(base_delay_s=0.01, jitter_s=0.01)) as conn:
        conn.search_settle_s = 0.0
        yield conn


def _titled(sim: JiraSimulator, title: str) -> list[str]:
    return [i.key for i in sim.store.issues.values() if i.fields.get("summary") == title]


def _paths(sim: JiraSimulator, since: int) -> list[str]:
    return [f"{e.method} {e.path.split('/rest/api/')[-1]}" for e in sim.log.since(since)]


def _item(title: str, status: str = "") -> WorkItem:
    return WorkItem(key="", title=title, type="Task", status=status, project="CHK")


async def test_the_marker_and_the_write_key_are_set_by_the_create_itself(
    fast: JiraConnector, sim: JiraSimulator
) -> None:
    since = sim.log.last_seq
    made = await fast.create("issues", "CHK", _item("one request"), origin="run-1", idempotency_key="two_way:k-1")

    issue = sim.issue(made.external_id)
    assert issue.properties[ORIGIN_PROPERTY]["origin"] == "run-1"
    assert issue.properties[WRITE_KEY_PROPERTY] == {"key": "two_way:k-1"}
    assert not any("/properties/" in p for p in _paths(sim, since)), "no separate property call"
    assert not made.adopted


async def test_a_create_whose_answer_was_lost_is_taken_by_the_retry(
    fast: JiraConnector, sim: JiraSimulator
) -> None:
    first_attempt = datetime.now(UTC)
    sim.chaos.update({"lost_answers": 1})
    with pytest.raises(TransientError):  # a create is never retried within the call: it may have been made
        await fast.create("issues", "CHK", _item("answer lost", "In Progress"), origin="o",
                          idempotency_key="two_way:k-2")
    (key,) = _titled(sim, "answer lost")
    since = sim.log.last_seq

    again = await fast.create("issues", "CHK", _item("answer lost", "In Progress"), origin="o",
                              idempotency_key="two_way:k-2", earlier_attempt_since=first_attempt)

    assert again.adopted and again.external_id == str(sim.issue(key).id)
    assert _titled(sim, "answer lost") == [key], "one issue, not two"
    assert sim.issue(key).fields["status"] == "In Progress", "the adopted issue gets the status the lost call set"
    assert "POST issue" not in _paths(sim, since)
    assert again.version == (await fast.get_many("issues", [again.external_id]))[0].version


async def test_an_earlier_attempt_that_made_nothing_gives_one_issue(fast: JiraConnector, sim: JiraSimulator) -> None:
    made = await fast.create("issues", "CHK", _item("never made before"), origin="o", idempotency_key="two_way:k-3",
                             earlier_attempt_since=datetime.now(UTC) - timedelta(minutes=3))

    assert not made.adopted
    assert _titled(sim, "never made before") == [sim.issue(made.external_id).key]


async def test_another_key_in_the_window_is_not_taken(fast: JiraConnector, sim: JiraSimulator) -> None:
    started = datetime.now(UTC)
    other = await fast.create("issues", "CHK", _item("same title"), origin="o", idempotency_key="two_way:k-4")

    mine = await fast.create("issues", "CHK", _item("same title"), origin="o", idempotency_key="two_way:k-5",
                             earlier_attempt_since=started)

    assert not mine.adopted and mine.external_id != other.external_id


async def test_without_an_earlier_attempt_nothing_is_searched(fast: JiraConnector, sim: JiraSimulator) -> None:
    since = len(sim.search_log)
    await fast.create("issues", "CHK", _item("plain"), origin="o", idempotency_key="two_way:k-6")
    assert len(sim.search_log) == since


async def test_the_search_waits_for_the_index_to_show_a_recent_create(
    settings: JiraSettings, sim: JiraSimulator
) -> None:
    # Search lags behind writes: looked for at once, a just-made issue is missed and made twice.
    sim.index_lag_ms = 300
    async with JiraConnector("jira", settings, RetryPolicy(base_delay_s=0.01, jitter_s=0.01)) as conn:
        conn.search_settle_s = 0.6
        first_attempt = datetime.now(UTC)
        made = await conn.create("issues", "CHK", _item("lagging index"), origin="o", idempotency_key="two_way:k-7")

        again = await conn.create("issues", "CHK", _item("lagging index"), origin="o", idempotency_key="two_way:k-7",
                                  earlier_attempt_since=first_attempt)

    assert again.adopted and again.external_id == made.external_id
    assert len(_titled(sim, "lagging index")) == 1


def test_a_create_with_a_malformed_property_is_refused(sim: JiraSimulator, settings: JiraSettings) -> None:
    answer = httpx.post(f"{settings.base_url}/rest/api/3/issue",
                        auth=(sim.world.member("po").email, DEFAULT_API_TOKEN),
                        json={"fields": {"project": {"key": "CHK"}, "summary": "s", "issuetype": {"name": "Task"}},
                              "properties": [{"key": "no value"}]})
    assert answer.status_code == 400
    assert _titled(sim, "s") == []
