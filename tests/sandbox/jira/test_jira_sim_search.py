"""JQL semantics and paging of the enhanced search, including the traps real connectors fall into."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest

from app.sandbox.common import serve_in_thread
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator
from app.sandbox.world import TeamWorld

SEARCH = "/rest/api/3/search/jql"


def search_keys(http: httpx.Client, jql: str, **params: object) -> list[str]:
    response = http.get(SEARCH, params={"jql": jql, "fields": "key", "maxResults": 5000, **params})
    assert response.status_code == 200, response.text
    return [i["key"] for i in response.json()["issues"]]


@contextmanager
def serving(sim: JiraSimulator) -> Iterator[httpx.Client]:
    served = serve_in_thread(sim.app)
    try:
        auth = (sim.world.member("po").email, DEFAULT_API_TOKEN)
        with httpx.Client(base_url=served.url, auth=auth, timeout=30) as client:
            yield client
    finally:
        served.stop()


def stamp_issue(sim: JiraSimulator, key: str, when: datetime) -> int:
    """Give ``key`` an exact ``updated`` time (an edit at that moment)."""
    issue = sim.store.find(key)
    assert issue is not None
    return sim.store.touch(issue, at_ms=int(when.timestamp() * 1000))


def test_a_date_string_is_read_in_the_users_zone_at_minute_precision(
    http: httpx.Client, sim: JiraSimulator
) -> None:
    tz = sim.world.tz
    edited_at = datetime(2031, 5, 4, 10, 15, 42, tzinfo=tz)
    stamp = stamp_issue(sim, "CHK-3", edited_at)
    # The seconds are lost: a cursor of 10:15:42 written as a string selects from 10:15:00 ...
    assert "CHK-3" in search_keys(http, 'project = CHK AND updated >= "2031/05/04 10:15"')
    assert "CHK-3" in search_keys(http, 'project = CHK AND updated >= "2031-05-04 10:15"')
    assert "CHK-3" not in search_keys(http, 'project = CHK AND updated > "2031/05/04 10:16"')
    # ... and the string is wall-clock time in the user's zone (Paris, UTC+2 in May), not UTC:
    # the UTC wall clock of the edit, written as a string, names a moment two hours earlier.
    utc_wall_clock = edited_at.astimezone(UTC).strftime("%Y/%m/%d %H:%M")
    assert utc_wall_clock == "2031/05/04 08:15"
    assert "CHK-3" not in search_keys(http, f'project = CHK AND updated <= "{utc_wall_clock}"')
    assert "CHK-3" in search_keys(http, 'project = CHK AND updated <= "2031/05/04 10:16"')
    # Epoch milliseconds are exact.
    assert "CHK-3" in search_keys(http, f"project = CHK AND updated >= {stamp}")
    assert "CHK-3" not in search_keys(http, f"project = CHK AND updated > {stamp}")
    assert "CHK-3" in search_keys(http, 'project = CHK AND updated >= "2031-05-04"')


def test_boolean_structure_and_orderings(http: httpx.Client) -> None:
    keys = search_keys(http, "(key in (CHK-1, CHK-2) OR id = 10003) AND project in (CHK) ORDER BY key DESC")
    assert keys == ["CHK-3", "CHK-2", "CHK-1"]
    assert search_keys(http, "project = CHK AND NOT key in (CHK-1) ORDER BY created ASC")[0] == "CHK-2"
    assert search_keys(http, "project = CHK AND issuetype = Epic ORDER BY key ASC") == [
        "CHK-1",
        "CHK-2",
        "CHK-3",
        "CHK-4",
    ]
    flagged = search_keys(http, 'project = CHK AND labels = blocked AND statusCategory = "In Progress"')
    assert flagged == ["CHK-5"]


def test_ordering_by_updated_breaks_ties_by_id(http: httpx.Client, sim: JiraSimulator) -> None:
    response = http.get(
        SEARCH,
        params={"jql": "project = CHK ORDER BY updated ASC, id ASC", "fields": "updated", "maxResults": 100},
    )
    pairs = [(sim.store.issues[int(i["id"])].updated_ms, int(i["id"])) for i in response.json()["issues"]]
    assert pairs == sorted(pairs)
    assert len({ms for ms, _ in pairs}) < len(pairs), "the seed has issues sharing one updated millisecond"


def test_paging_with_next_page_token_visits_every_issue_once(http: httpx.Client, sim: JiraSimulator) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, object] = {
            "jql": "project = CHK ORDER BY updated ASC",
            "fields": "summary",
            "maxResults": 7,
        }
        if token:
            params["nextPageToken"] = token
        body = http.get(SEARCH, params=params).json()
        assert "total" not in body
        seen.extend(i["id"] for i in body["issues"])
        pages += 1
        token = body.get("nextPageToken")
        assert body["isLast"] is (token is None)
        if token is None:
            break
    assert sorted(seen) == sorted(str(i) for i in sim.store.issues)
    assert pages == -(-sim.world.issue_count // 7)


def test_page_size_is_capped_at_100_with_fields_and_5000_for_ids_only(sim: JiraSimulator) -> None:
    big = JiraSimulator(TeamWorld(seed=7, scale=150))  # 6000 issues
    with serving(big) as client:
        with_fields = client.get(
            SEARCH, params={"jql": "project = CHK", "fields": "summary", "maxResults": 1000}
        )
        ids_only = client.get(SEARCH, params={"jql": "project = CHK", "fields": "id", "maxResults": 9999})
        default = client.get(SEARCH, params={"jql": "project = CHK", "maxResults": 9999})
    assert len(with_fields.json()["issues"]) == 100
    assert len(ids_only.json()["issues"]) == 5000
    assert ids_only.json()["issues"][0] == {"id": "10001"}
    assert len(default.json()["issues"]) == 5000, "the default field list is id only"


def test_an_unbounded_query_or_a_token_of_another_query_is_refused(http: httpx.Client) -> None:
    assert http.get(SEARCH, params={"jql": "ORDER BY key DESC"}).status_code == 400
    first = http.get(SEARCH, params={"jql": "project = CHK", "maxResults": 2}).json()
    other = http.get(
        SEARCH, params={"jql": "project = CHK AND issuetype = Bug", "nextPageToken": first["nextPageToken"]}
    )
    assert other.status_code == 400


def test_a_moved_issue_keeps_its_id_and_its_old_key_still_resolves(
    http: httpx.Client, sim: JiraSimulator
) -> None:
    sim.add_project("OPS", "Operations")
    before = http.get("/rest/api/3/issue/CHK-9", params={"fields": "summary"}).json()
    sim.move_issue("CHK-9", "OPS")
    after = http.get("/rest/api/3/issue/CHK-9", params={"fields": "summary,project"}).json()
    assert after["id"] == before["id"]
    assert after["key"] == "OPS-1"
    assert after["fields"]["project"]["key"] == "OPS"
    assert "CHK-9" not in search_keys(http, "project = CHK")
    assert search_keys(http, "project = OPS") == ["OPS-1"]


def test_the_store_pages_the_incremental_query_from_its_index() -> None:
    sim = JiraSimulator(TeamWorld(seed=3))
    store = sim.store
    bound = store.by_updated[len(store.by_updated) // 2][0]
    scanned = list(store.scan_updated(None, bound))
    assert scanned and all(i.updated_ms >= bound for i in scanned)
    assert len(scanned) == sum(1 for ms, _ in store.by_updated if ms >= bound)


@pytest.mark.slow
def test_100k_issues_seed_fast_and_the_incremental_page_costs_the_page() -> None:
    started = time.perf_counter()
    sim = JiraSimulator(TeamWorld(seed=1, scale=2500))
    seeded = time.perf_counter() - started
    assert len(sim.store.issues) == 100_000
    assert seeded < 30, f"seeding 100k issues took {seeded:.1f}s"
    with serving(sim) as client:
        recent = sim.store.by_updated[-500][0]
        t0 = time.perf_counter()
        page = client.get(
            SEARCH,
            params={
                "jql": f"project = CHK AND updated >= {recent} ORDER BY updated ASC",
                "fields": "summary,updated",
                "maxResults": 100,
            },
        )
        elapsed = time.perf_counter() - t0
    assert len(page.json()["issues"]) == 100
    assert elapsed < 1.0, f"one incremental page over 100k issues took {elapsed:.2f}s"


def test_search_shows_a_change_only_after_the_index_lag_unless_reconciled(
    http: httpx.Client, sim: JiraSimulator
) -> None:
    sim.index_lag_ms = 60_000
    edited = sim.edit_issue("CHK-4", summary="just edited")
    assert "CHK-4" not in search_keys(http, "project = CHK")
    assert "CHK-5" in search_keys(http, "project = CHK"), "issues not changed lately are shown"
    reconciled = http.post(
        SEARCH, json={"jql": "project = CHK", "fields": ["key"], "maxResults": 5000, "reconcileIssues": [edited.id]}
    )
    assert "CHK-4" in [i["key"] for i in reconciled.json()["issues"]]
    assert "CHK-4" in search_keys(http, "project = CHK", reconcileIssues=str(edited.id)), "GET takes it too"
    sim.index_lag_ms = 0
    assert "CHK-4" in search_keys(http, "project = CHK")


def test_more_than_50_reconciled_issues_are_refused(http: httpx.Client) -> None:
    body = {"jql": "project = CHK", "reconcileIssues": list(range(10001, 10052))}
    refused = http.post(SEARCH, json=body)
    assert refused.status_code == 400 and "50" in refused.text
    assert http.post(SEARCH, json={**body, "reconcileIssues": body["reconcileIssues"][:50]}).status_code == 200
    assert http.post(SEARCH, json={**body, "reconcileIssues": "10001"}).status_code == 400
