"""Every implemented operation answers in the shape its own operation in the published spec documents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jira_spec import validate_component, validate_request, validate_response

from app.sandbox.jira import JiraSimulator

V3 = "/rest/api/3"
AGILE = "/rest/agile/1.0"

# (spec template, method, concrete path, query params, JSON body, expected status)
READS: list[tuple[str, str, str, dict[str, Any], Any, int]] = [
    (f"{V3}/serverInfo", "GET", f"{V3}/serverInfo", {}, None, 200),
    (f"{V3}/myself", "GET", f"{V3}/myself", {}, None, 200),
    (f"{V3}/field", "GET", f"{V3}/field", {}, None, 200),
    (f"{V3}/project", "GET", f"{V3}/project", {}, None, 200),
    (f"{V3}/project/search", "GET", f"{V3}/project/search", {}, None, 200),
    (f"{V3}/project/{{projectIdOrKey}}", "GET", f"{V3}/project/CHK", {}, None, 200),
    (
        f"{V3}/mypermissions",
        "GET",
        f"{V3}/mypermissions",
        {"permissions": "BROWSE_PROJECTS,EDIT_ISSUES", "projectKey": "CHK"},
        None,
        200,
    ),
    (
        f"{V3}/search/jql",
        "GET",
        f"{V3}/search/jql",
        {"jql": "project = CHK ORDER BY updated ASC", "fields": "*all", "maxResults": 5},
        None,
        200,
    ),
    (
        f"{V3}/search/jql",
        "POST",
        f"{V3}/search/jql",
        {},
        {
            "jql": "project = CHK",
            "fields": ["summary", "status", "customfield_10020"],
            "maxResults": 3,
            "expand": "changelog",
        },
        200,
    ),
    (f"{V3}/search", "GET", f"{V3}/search", {"jql": "project = CHK", "maxResults": 3}, None, 200),
    (f"{V3}/issue/{{issueIdOrKey}}", "GET", f"{V3}/issue/CHK-5", {"expand": "changelog"}, None, 200),
    (f"{V3}/issue/{{issueIdOrKey}}/transitions", "GET", f"{V3}/issue/CHK-5/transitions", {}, None, 200),
    (f"{V3}/issue/{{issueIdOrKey}}/comment", "GET", f"{V3}/issue/CHK-5/comment", {}, None, 200),
    (f"{V3}/issue/{{issueIdOrKey}}/changelog", "GET", f"{V3}/issue/CHK-5/changelog", {}, None, 200),
    (f"{V3}/issue/{{issueIdOrKey}}/properties", "GET", f"{V3}/issue/CHK-5/properties", {}, None, 200),
    (f"{V3}/webhook", "GET", f"{V3}/webhook", {}, None, 200),
    (f"{V3}/issue/{{issueIdOrKey}}", "GET", f"{V3}/issue/CHK-99999", {}, None, 404),
    (f"{V3}/search/jql", "GET", f"{V3}/search/jql", {"jql": "project = CHK AND nosuchfield = 1"}, None, 400),
]


@pytest.mark.parametrize(
    ("template", "method", "path", "params", "body", "status"),
    READS,
    ids=[f"{r[1]} {r[2]} -> {r[5]}" for r in READS],
)
def test_reads_answer_in_the_documented_shape(
    http: httpx.Client, template: str, method: str, path: str, params: dict[str, Any], body: Any, status: int
) -> None:
    if body is not None:
        validate_request(template, method, body)
    response = http.request(method, path, params=params, json=body)
    assert response.status_code == status, response.text
    validate_response(template, method, status, response.json())


def test_writes_send_and_answer_in_the_documented_shape(http: httpx.Client, sim: JiraSimulator) -> None:
    account = sim.world.member("dev2").jira_account_id
    create = {
        "fields": {
            "project": {"key": "CHK"},
            "summary": "Spec-checked issue",
            "issuetype": {"name": "Bug"},
            "labels": ["spec"],
            "description": {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Body"}]}],
            },
        }
    }
    validate_request(f"{V3}/issue", "POST", create)
    created = http.post(f"{V3}/issue", json=create)
    assert created.status_code == 201, created.text
    validate_response(f"{V3}/issue", "POST", 201, created.json())
    key = created.json()["key"]

    edit = {
        "fields": {"summary": "Spec-checked issue, edited", "assignee": {"accountId": account}},
        "update": {"labels": [{"add": "edited"}]},
    }
    validate_request(f"{V3}/issue/{{issueIdOrKey}}", "PUT", edit)
    assert http.put(f"{V3}/issue/{key}", json=edit).status_code == 204

    transition = {"transition": {"id": "21"}}
    validate_request(f"{V3}/issue/{{issueIdOrKey}}/transitions", "POST", transition)
    assert http.post(f"{V3}/issue/{key}/transitions", json=transition).status_code == 204

    comment = {
        "body": {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Looks good"}]}],
        }
    }
    validate_request(f"{V3}/issue/{{issueIdOrKey}}/comment", "POST", comment)
    added = http.post(f"{V3}/issue/{key}/comment", json=comment)
    assert added.status_code == 201
    validate_response(f"{V3}/issue/{{issueIdOrKey}}/comment", "POST", 201, added.json())
    comment_id = added.json()["id"]
    fetched = http.get(f"{V3}/issue/{key}/comment/{comment_id}")
    validate_response(f"{V3}/issue/{{issueIdOrKey}}/comment/{{id}}", "GET", 200, fetched.json())

    assert (
        http.put(f"{V3}/issue/{key}/properties/passerelle.origin", json={"origin": "hub"}).status_code == 201
    )
    assert http.put(f"{V3}/issue/{key}/properties/passerelle.origin", json={"origin": "x"}).status_code == 200
    prop = http.get(f"{V3}/issue/{key}/properties/passerelle.origin")
    validate_response(f"{V3}/issue/{{issueIdOrKey}}/properties/{{propertyKey}}", "GET", 200, prop.json())
    assert prop.json() == {"key": "passerelle.origin", "value": {"origin": "x"}}
    assert http.delete(f"{V3}/issue/{key}/properties/passerelle.origin").status_code == 204

    issue = http.get(f"{V3}/issue/{key}")
    validate_response(f"{V3}/issue/{{issueIdOrKey}}", "GET", 200, issue.json())
    fields = issue.json()["fields"]
    assert fields["summary"] == "Spec-checked issue, edited"
    assert fields["labels"] == ["spec", "edited"]
    assert fields["status"]["name"] == "In Progress"
    assert fields["assignee"]["accountId"] == account

    assert http.delete(f"{V3}/issue/{key}").status_code == 204
    assert http.get(f"{V3}/issue/{key}").status_code == 404


def test_webhook_registration_answers_in_the_documented_shape(http: httpx.Client) -> None:
    body = {
        "url": "https://hub.example/webhooks/jira",
        "webhooks": [
            {"events": ["jira:issue_created", "jira:issue_updated"], "jqlFilter": "project = CHK"},
            {"events": ["jira:issue_deleted"], "jqlFilter": "project = "},
        ],
    }
    validate_request(f"{V3}/webhook", "POST", body)
    created = http.post(f"{V3}/webhook", json=body)
    validate_response(f"{V3}/webhook", "POST", 200, created.json())
    results = created.json()["webhookRegistrationResult"]
    assert "createdWebhookId" in results[0] and "errors" in results[1]
    listed = http.get(f"{V3}/webhook")
    validate_response(f"{V3}/webhook", "GET", 200, listed.json())
    refresh = {"webhookIds": [results[0]["createdWebhookId"]]}
    validate_request(f"{V3}/webhook/refresh", "PUT", refresh)
    refreshed = http.put(f"{V3}/webhook/refresh", json=refresh)
    validate_response(f"{V3}/webhook/refresh", "PUT", 200, refreshed.json())
    validate_request(f"{V3}/webhook", "DELETE", refresh)
    assert http.request("DELETE", f"{V3}/webhook", json=refresh).status_code == 202
    assert http.get(f"{V3}/webhook").json()["values"] == []


def test_agile_sprints_fit_the_sprint_schema(http: httpx.Client) -> None:
    boards = http.get(f"{AGILE}/board", params={"projectKeyOrId": "CHK"}).json()
    board_id = boards["values"][0]["id"]
    sprints = http.get(f"{AGILE}/board/{board_id}/sprint").json()["values"]
    assert {s["state"] for s in sprints} == {"closed", "active", "future"}
    for sprint in sprints:
        validate_component("SprintBean", sprint, agile=True)
    active = next(s for s in sprints if s["state"] == "active")
    validate_component("SprintBean", http.get(f"{AGILE}/sprint/{active['id']}").json(), agile=True)
    issues = http.get(
        f"{AGILE}/sprint/{active['id']}/issue", params={"fields": "summary,customfield_10020"}
    ).json()
    assert issues["issues"]
    for issue in issues["issues"]:
        assert active["id"] in [s["id"] for s in issue["fields"]["customfield_10020"]]
        assert issue["fields"]["sprint"]["id"] == active["id"]


def test_errors_have_jiras_shape_and_a_404_names_the_path(http: httpx.Client) -> None:
    missing = http.get(f"{V3}/issue/CHK-5/worklog")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == [
        "not implemented in the jira sandbox: GET /rest/api/3/issue/CHK-5/worklog"
    ]
    bad = http.post(f"{V3}/issue", json={"fields": {"project": {"key": "CHK"}}})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"summary", "issuetype"}


def test_a_wrong_token_is_refused_with_401(served: Any, email: str) -> None:
    response = httpx.get(f"{served.url}{V3}/myself", auth=(email, "not-the-token"))
    assert response.status_code == 401
    assert response.json()["errorMessages"]


def test_v2_carries_rich_text_as_plain_strings(http: httpx.Client) -> None:
    v2 = http.get("/rest/api/2/issue/CHK-6", params={"fields": "description"}).json()
    v3 = http.get(f"{V3}/issue/CHK-6", params={"fields": "description"}).json()
    assert isinstance(v2["fields"]["description"], str)
    assert v3["fields"]["description"]["type"] == "doc"
    assert "Acceptance criteria" in v2["fields"]["description"] or "Steps" in v2["fields"]["description"]
