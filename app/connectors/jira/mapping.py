"""Pure mapping between Jira JSON (REST v2, as the ``jira`` SDK speaks it) and the unified model.

Issues are keyed by their numeric ``id`` (keys change when an issue moves); the version
is the ``updated`` timestamp string. Which custom fields hold the sprint, story points
and the flag differs between sites, so they come in a :class:`FieldIds` read from
``GET /field``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.connectors.base import Change
from app.errors import SkippableRecord
from app.models import Sprint, SprintState, StatusCategory, WorkItem

__all__ = [
    "ISSUE_FIELDS",
    "FieldIds",
    "changed_fields",
    "epoch_ms",
    "issue_fields",
    "issue_to_change",
    "parse_jira_time",
    "sprint_to_change",
    "sprint_version",
    "status_category",
    "work_item_from_issue",
    "work_item_to_fields",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ISSUE_FIELDS = (
    "summary",
    "description",
    "issuetype",
    "status",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "duedate",
    "parent",
    "project",
    "created",
    "updated",
)
"""The system fields a WorkItem needs (custom fields come from :class:`FieldIds`)."""

_CATEGORIES = {
    "new": StatusCategory.TODO,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}


@dataclass(frozen=True)
class FieldIds:
    """The site's custom field ids; ``None`` when the site has no such field."""

    sprint: str | None = None
    story_points: str | None = None
    flagged: str | None = None

    @classmethod
    def from_catalogue(cls, fields: list[dict[str, Any]]) -> FieldIds:
        """Find the fields by their custom type (names are translated; types are not)."""
        by_type: dict[str, str] = {}
        by_name: dict[str, str] = {}
        for f in fields:
            custom = (f.get("schema") or {}).get("custom")
            if custom:
                by_type.setdefault(str(custom), str(f["id"]))
            by_name.setdefault(str(f.get("name", "")).lower(), str(f["id"]))
        points = (
            by_type.get("com.pyxis.greenhopper.jira:jsw-story-points")
            or by_name.get("story point estimate")
            or by_name.get("story points")
        )
        return cls(
            sprint=by_type.get("com.pyxis.greenhopper.jira:gh-sprint"),
            story_points=points,
            flagged=by_name.get("flagged"),
        )


def issue_fields(ids: FieldIds) -> list[str]:
    """Exactly the fields the mapping reads: what a search asks for."""
    return [*ISSUE_FIELDS, *(f for f in (ids.sprint, ids.story_points, ids.flagged) if f)]


def parse_jira_time(text: str) -> datetime:
    """``2024-05-01T10:15:30.123+0200`` (Jira's format) -> aware datetime."""
    # fromisoformat reads this format (Python 3.11+) at a tenth of strptime's cost, which a
    # full read pays three times per issue; strptime stays the judge of anything else, so
    # what is accepted (an offset, the fraction) does not change.
    if len(text) == 28 and text[19] == "." and text[23] in "+-":
        return datetime.fromisoformat(text)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def status_category(key: str | None) -> StatusCategory:
    return _CATEGORIES.get(key or "", StatusCategory.TODO)


def _name(value: Any) -> str | None:
    return str(value["name"]) if isinstance(value, dict) and value.get("name") is not None else None


def _account(value: Any) -> str | None:
    return str(value["accountId"]) if isinstance(value, dict) and value.get("accountId") else None


def _current_sprint(value: Any) -> str | None:
    """The sprint an issue is in now: an open one if any, else the last closed one."""
    if not isinstance(value, list) or not value:
        return None
    open_sprints = [s for s in value if isinstance(s, dict) and s.get("state") != "closed"]
    chosen = (open_sprints or value)[-1]
    return str(chosen["id"]) if isinstance(chosen, dict) and "id" in chosen else None


def work_item_from_issue(issue: dict[str, Any], ids: FieldIds) -> WorkItem:
    """Map one issue; raises ``SkippableRecord`` when it lacks what every issue has."""
    fields = issue.get("fields") or {}
    try:
        status = fields.get("status") or {}
        points = fields.get(ids.story_points) if ids.story_points else None
        due = fields.get("duedate")
        parent = fields.get("parent")
        return WorkItem(
            key=str(issue["key"]),
            title=str(fields["summary"]),
            description=fields.get("description") or "",
            type=_name(fields.get("issuetype")) or "Task",
            status=_name(status) or "",
            status_category=status_category((status.get("statusCategory") or {}).get("key")),
            priority=_name(fields.get("priority")),
            assignee=_account(fields.get("assignee")),
            reporter=_account(fields.get("reporter")),
            sprint=_current_sprint(fields.get(ids.sprint)) if ids.sprint else None,
            parent=str(parent["id"]) if isinstance(parent, dict) and parent.get("id") else None,
            labels=tuple(fields.get("labels") or ()),
            due_date=date.fromisoformat(due) if due else None,
            story_points=float(points) if points is not None else None,
            flagged=bool(fields.get(ids.flagged)) if ids.flagged else False,
            project=(fields.get("project") or {}).get("key"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SkippableRecord(f"issue {issue.get('id')}: cannot map: {exc!r}") from exc


def issue_to_change(issue: dict[str, Any], ids: FieldIds, site_url: str) -> Change:
    fields = issue.get("fields") or {}
    updated = parse_jira_time(fields["updated"]) if fields.get("updated") else None
    created = parse_jira_time(fields["created"]) if fields.get("created") else None
    return Change(
        external_id=str(issue["id"]),
        version=fields.get("updated"),
        body=work_item_from_issue(issue, ids),
        raw=issue,
        created_at=created,
        updated_at=updated,
        url=f"{site_url.rstrip('/')}/browse/{issue.get('key')}",
    )


def work_item_to_fields(item: WorkItem, ids: FieldIds, *, creating: bool) -> dict[str, Any]:
    """The ``fields`` of a create or edit request (status is a transition, not a field)."""
    fields: dict[str, Any] = {
        "summary": item.title,
        "description": item.description or None,
        "labels": list(item.labels),
        "duedate": item.due_date.isoformat() if item.due_date else None,
        "assignee": {"accountId": item.assignee} if item.assignee else None,
    }
    if item.priority:
        fields["priority"] = {"name": item.priority}
    if ids.story_points:
        fields[ids.story_points] = item.story_points
    if ids.flagged:
        fields[ids.flagged] = [{"value": "Impediment"}] if item.flagged else None
    if ids.sprint and item.sprint:
        fields[ids.sprint] = int(item.sprint)
    if creating:
        fields["issuetype"] = {"name": item.type}
        if item.parent:
            fields["parent"] = {"id": item.parent}
        if item.reporter:
            fields["reporter"] = {"accountId": item.reporter}
    return fields


def changed_fields(current: WorkItem, desired: WorkItem, ids: FieldIds) -> dict[str, Any]:
    """Only the edit fields whose value differs: fewer writes, a quieter changelog."""
    before = work_item_to_fields(current, ids, creating=False)
    after = work_item_to_fields(desired, ids, creating=False)
    return {k: v for k, v in after.items() if before.get(k) != v}


# --- sprints ---------------------------------------------------------------------------------
def sprint_version(sprint: dict[str, Any]) -> str:
    """Sprints carry no version: a short hash of their JSON serves as one."""
    canonical = json.dumps(sprint, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _time_or_none(text: Any) -> datetime | None:
    if not text:
        return None
    return (
        parse_jira_time(text)
        if "." in str(text)
        else datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    )


def sprint_to_change(sprint: dict[str, Any], board: str) -> Change:
    try:
        body = Sprint(
            name=str(sprint["name"]),
            state=SprintState(str(sprint.get("state", "future")).lower()),
            start=_time_or_none(sprint.get("startDate")),
            end=_time_or_none(sprint.get("endDate")),
            goal=str(sprint.get("goal") or ""),
            board=str(sprint.get("originBoardId") or board),
        )
    except (KeyError, ValueError) as exc:
        raise SkippableRecord(f"sprint {sprint.get('id')}: cannot map: {exc!r}") from exc
    return Change(
        external_id=str(sprint["id"]),
        version=sprint_version(sprint),
        body=body,
        raw=sprint,
        created_at=_time_or_none(sprint.get("createdDate")),
    )
