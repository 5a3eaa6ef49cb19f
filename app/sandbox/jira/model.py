"""The simulator's state types and the fixed catalogue (statuses, issue types, fields).

Issue fields are kept in one canonical, version-neutral form (plain-text description,
account ids, sprint ids); :mod:`app.sandbox.jira.render` turns them into the v2 or v3
JSON a client sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FIELD_CATALOGUE",
    "FLAGGED_FIELD",
    "ISSUE_TYPES",
    "PRIORITIES",
    "SPRINT_FIELD",
    "STATUSES",
    "STORY_POINTS_FIELD",
    "TRANSITIONS",
    "Board",
    "Comment",
    "Issue",
    "Project",
    "SprintState",
    "Status",
    "Webhook",
]

SPRINT_FIELD = "customfield_10020"
FLAGGED_FIELD = "customfield_10021"
STORY_POINTS_FIELD = "customfield_10016"


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category_key: str  # new | indeterminate | done
    category_id: int
    category_name: str
    color: str


STATUSES: dict[str, Status] = {
    s.name: s
    for s in (
        Status("10000", "To Do", "new", 2, "To Do", "blue-gray"),
        Status("10001", "In Progress", "indeterminate", 4, "In Progress", "yellow"),
        Status("10002", "In Review", "indeterminate", 4, "In Progress", "yellow"),
        Status("10003", "Done", "done", 3, "Done", "green"),
    )
}

# Transition id -> target status: every status is reachable from every other (a simple workflow).
TRANSITIONS: dict[str, str] = {"11": "To Do", "21": "In Progress", "31": "In Review", "41": "Done"}

ISSUE_TYPES: dict[str, dict[str, Any]] = {
    "Epic": {"id": "10000", "hierarchyLevel": 1, "subtask": False},
    "Story": {"id": "10001", "hierarchyLevel": 0, "subtask": False},
    "Task": {"id": "10002", "hierarchyLevel": 0, "subtask": False},
    "Bug": {"id": "10003", "hierarchyLevel": 0, "subtask": False},
    "Subtask": {"id": "10004", "hierarchyLevel": -1, "subtask": True},
}

PRIORITIES: dict[str, str] = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}


def _system(fid: str, name: str, schema_type: str, clauses: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": clauses,
        "schema": {"type": schema_type, "system": fid, **extra},
    }


def _custom(num: int, name: str, schema_type: str, custom: str, **extra: Any) -> dict[str, Any]:
    fid = f"customfield_{num}"
    return {
        "id": fid,
        "key": fid,
        "name": name,
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [f"cf[{num}]", name],
        "schema": {"type": schema_type, "custom": custom, "customId": num, **extra},
    }


# What GET /field lists. As in Jira Cloud, the issue key field claims the JQL clause name
# ``id``: the ``jira`` package therefore rewrites a requested field ``id`` into ``issuekey``.
FIELD_CATALOGUE: list[dict[str, Any]] = [
    {
        "id": "issuekey",
        "key": "issuekey",
        "name": "Key",
        "custom": False,
        "orderable": False,
        "navigable": True,
        "searchable": False,
        "clauseNames": ["id", "issue", "issuekey", "key"],
    },
    _system("summary", "Summary", "string", ["summary"]),
    _system("description", "Description", "string", ["description"]),
    _system("issuetype", "Issue Type", "issuetype", ["issuetype", "type"]),
    _system("status", "Status", "status", ["status"]),
    _system("priority", "Priority", "priority", ["priority"]),
    _system("assignee", "Assignee", "user", ["assignee"]),
    _system("reporter", "Reporter", "user", ["reporter"]),
    _system("labels", "Labels", "array", ["labels"], items="string"),
    _system("duedate", "Due date", "date", ["due", "duedate"]),
    _system("created", "Created", "datetime", ["created", "createdDate"]),
    _system("updated", "Updated", "datetime", ["updated", "updatedDate"]),
    _system("resolution", "Resolution", "resolution", ["resolution"]),
    _system("resolutiondate", "Resolved", "datetime", ["resolutiondate", "resolved"]),
    _system("project", "Project", "project", ["project"]),
    _system("parent", "Parent", "issuelink", ["parent"]),
    _system("comment", "Comment", "comments-page", ["comment"]),
    _system("statusCategory", "Status Category", "statusCategory", ["statusCategory"]),
    _custom(10020, "Sprint", "array", "com.pyxis.greenhopper.jira:gh-sprint", items="json"),
    _custom(
        10021,
        "Flagged",
        "array",
        "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes",
        items="option",
    ),
    _custom(10016, "Story point estimate", "number", "com.pyxis.greenhopper.jira:jsw-story-points"),
    _custom(10019, "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank"),
]


@dataclass
class Project:
    id: str
    key: str
    name: str
    lead: str  # account id
    next_number: int = 1


@dataclass
class Board:
    id: int
    name: str
    type: str  # scrum | kanban
    project_key: str


@dataclass
class SprintState:
    id: int
    name: str
    state: str  # future | active | closed
    board_id: int
    goal: str = ""
    start_ms: int | None = None
    end_ms: int | None = None
    complete_ms: int | None = None
    created_ms: int = 0


@dataclass
class Comment:
    id: str
    author: str  # account id
    body: str
    created_ms: int
    updated_ms: int


@dataclass
class Issue:
    """One issue. ``fields`` holds the canonical values, keyed by Jira field id.

    Canonical values: ``summary``/``description`` plain text, ``issuetype``/``status``/
    ``priority`` names, ``assignee``/``reporter`` account ids, ``labels`` list of str,
    ``parent`` issue id, sprint field a list of sprint ids, flagged a bool, ``duedate`` ISO date.
    """

    id: int
    key: str
    project_key: str
    created_ms: int
    updated_ms: int
    fields: dict[str, Any]
    comments: list[Comment] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    changelog: list[dict[str, Any]] = field(default_factory=list)
    resolution_ms: int | None = None

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])


@dataclass
class Webhook:
    id: int
    url: str
    events: list[str]
    jql_filter: str = ""
    secret: str | None = None
    expires_ms: int | None = None  # None: an admin webhook, never expires
    field_ids_filter: list[str] = field(default_factory=list)
