"""The ``jira`` package, as real clients use it, works against the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jira import JIRA, JIRAError

from app.sandbox.common import ServedApp
from app.sandbox.jira import DEFAULT_API_TOKEN, JiraSimulator


@pytest.fixture
def client(served: ServedApp, email: str) -> Iterator[JIRA]:
    jira = JIRA(server=served.url, basic_auth=(email, DEFAULT_API_TOKEN), max_retries=0)
    try:
        yield jira
    finally:
        jira.close()


def test_the_client_sees_a_cloud_server(client: JIRA, sim: JiraSimulator) -> None:
    assert client.deploymentType == "Cloud"
    assert client.myself()["accountId"] == sim.world.member("po").jira_account_id


def test_search_pages_through_every_issue_of_the_project(client: JIRA, sim: JiraSimulator) -> None:
    issues = client.search_issues("project = CHK ORDER BY key ASC", maxResults=False, fields="summary,status")
    assert [i.key for i in issues] == [f"CHK-{n}" for n in range(1, sim.world.issue_count + 1)]
    assert all(i.fields.summary for i in issues)


def test_enhanced_search_returns_a_next_page_token_until_the_last_page(client: JIRA) -> None:
    first = client.enhanced_search_issues(
        "project = CHK ORDER BY created ASC", maxResults=15, fields="summary"
    )
    assert len(first) == 15
    assert first.nextPageToken
    second = client.enhanced_search_issues(
        "project = CHK ORDER BY created ASC",
        maxResults=15,
        fields="summary",
        nextPageToken=first.nextPageToken,
    )
    assert {i.id for i in first}.isdisjoint({i.id for i in second})


def test_get_create_edit_transition_comment(client: JIRA, sim: JiraSimulator) -> None:
    issue = client.create_issue(
        project="CHK",
        summary="Made through the SDK",
        issuetype={"name": "Story"},
        description="As a shopper...\n\nAcceptance criteria:\n- it works",
        labels=["sdk"],
        customfield_10016=3,
    )
    assert issue.key == f"CHK-{sim.world.issue_count + 1}"
    issue.update(summary="Made through the SDK, edited", fields={"labels": ["sdk", "edited"]})
    transitions = {t["name"]: t["id"] for t in client.transitions(issue)}
    client.transition_issue(issue, transitions["Done"])
    client.add_comment(issue, "Verified in staging")
    fetched = client.issue(issue.key)
    assert fetched.fields.summary == "Made through the SDK, edited"
    assert fetched.fields.labels == ["sdk", "edited"]
    assert fetched.fields.status.name == "Done"
    assert fetched.fields.status.statusCategory.key == "done"
    assert fetched.fields.customfield_10016 == 3
    assert fetched.fields.description.endswith("- it works")
    assert [c.body for c in client.comments(issue)] == ["Verified in staging"]
    changelog = client.issue(issue.key, expand="changelog").changelog
    assert any(item.field == "status" for history in changelog.histories for item in history.items)


def test_issue_properties_round_trip(client: JIRA) -> None:
    client.add_issue_property("CHK-7", "passerelle.origin", {"origin": "hub", "run": 3})
    assert client.issue_property("CHK-7", "passerelle.origin").value.origin == "hub"
    assert [p.key for p in client.issue_properties("CHK-7")] == ["passerelle.origin"]


def test_sprints_and_boards(client: JIRA, sim: JiraSimulator) -> None:
    board = client.boards(projectKeyOrID="CHK")[0]
    sprints = client.sprints(board.id)
    assert [s.state for s in sprints] == ["closed", "closed", "active", "future", "future"]
    active = next(s for s in sprints if s.state == "active")
    in_sprint = client.search_issues(f"sprint = {active.id}", maxResults=False, fields="customfield_10020")
    assert in_sprint
    assert all(active.id in [s.id for s in i.fields.customfield_10020] for i in in_sprint)


def test_a_missing_issue_raises_404(client: JIRA) -> None:
    with pytest.raises(JIRAError) as caught:
        client.issue("CHK-424242")
    assert caught.value.status_code == 404
