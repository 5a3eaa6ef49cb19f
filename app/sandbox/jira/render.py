"""Issue, user, sprint and comment JSON as Jira Cloud returns them, for REST v2 and v3.

v3 carries rich text (descriptions, comment bodies) as Atlassian Document Format; v2 and
webhook payloads carry the same text as plain strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.sandbox.jira.model import (
    FIELD_CATALOGUE,
    FLAGGED_FIELD,
    ISSUE_TYPES,
    PRIORITIES,
    SPRINT_FIELD,
    STATUSES,
    STORY_POINTS_FIELD,
    Comment,
    Issue,
    Project,
    SprintState,
)
from app.sandbox.jira.store import JiraStore

__all__ = ["Renderer", "adf", "adf_text", "jira_time", "select_fields"]

_EXPANDABLE = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_ALL_FIELDS = [f["id"] for f in FIELD_CATALOGUE if f["id"] not in ("issuekey", "statusCategory")]
_NAVIGABLE = [f for f in _ALL_FIELDS if f != "comment"] + ["statusCategory"]


def jira_time(ms: int | None, tz: ZoneInfo) -> str | None:
    """``2024-05-01T10:15:30.123+0200``: Jira's own timestamp format, in the user's zone."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + moment.strftime("%z")


def adf(text: str | None) -> dict[str, Any] | None:
    """Plain text as an ADF document: one paragraph per line."""
    if not text:
        return None
    content: list[dict[str, Any]] = []
    for line in text.split("\n"):
        para: dict[str, Any] = {"type": "paragraph", "content": []}
        if line:
            para["content"] = [{"type": "text", "text": line}]
        content.append(para)
    return {"type": "doc", "version": 1, "content": content}


def adf_text(doc: Any) -> str:
    """The plain text of an ADF document (paragraph-like blocks become lines)."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        raise ValueError("Operation value must be an Atlassian Document (see the Atlassian Document Format).")

    def walk(node: dict[str, Any]) -> str:
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        return "".join(walk(child) for child in node.get("content", []) if isinstance(child, dict))

    return "\n".join(walk(block) for block in doc.get("content", []) if isinstance(block, dict))


def select_fields(requested: Iterable[str] | None, default: str) -> list[str] | None:
    """The field ids to render for a ``fields`` parameter; ``None`` when only the id is wanted."""
    names: list[str] = []
    for item in requested or [default]:
        names.extend(part.strip() for part in str(item).split(",") if part.strip())
    if not names:
        names = [default]
    chosen: list[str] = []
    excluded = {n[1:] for n in names if n.startswith("-")}
    for name in names:
        if name == "*all":
            chosen.extend(_ALL_FIELDS)
        elif name == "*navigable":
            chosen.extend(_NAVIGABLE)
        elif not name.startswith("-"):
            chosen.append(name)
    if not chosen and excluded:
        chosen = list(_NAVIGABLE)
    result = [f for f in dict.fromkeys(chosen) if f not in excluded]
    if set(result) <= {"id"}:
        return None
    return result


class Renderer:
    def __init__(
        self, store: JiraStore, base_url: str, tz: ZoneInfo, users: dict[str, dict[str, Any]]
    ) -> None:
        self.store = store
        self.base = base_url.rstrip("/")
        self.tz = tz
        self.users = users

    def time(self, ms: int | None) -> str | None:
        return jira_time(ms, self.tz)

    # --- small objects ---------------------------------------------------------------------
    def user(self, account_id: str | None, api: int = 3) -> dict[str, Any] | None:
        if account_id is None:
            return None
        info = self.users.get(account_id, {"displayName": "Former user", "emailAddress": None})
        avatar = f"https://avatar.example/{account_id}.png"
        out = {
            "self": f"{self.base}/rest/api/{api}/user?accountId={account_id}",
            "accountId": account_id,
            "accountType": "atlassian",
            "displayName": info["displayName"],
            "active": True,
            "timeZone": str(self.tz),
            "avatarUrls": {size: avatar for size in ("16x16", "24x24", "32x32", "48x48")},
        }
        if info.get("emailAddress"):
            out["emailAddress"] = info["emailAddress"]
        return out

    def status(self, name: str, api: int = 3) -> dict[str, Any]:
        s = STATUSES[name]
        return {
            "self": f"{self.base}/rest/api/{api}/status/{s.id}",
            "id": s.id,
            "name": s.name,
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "statusCategory": self.status_category(name, api),
        }

    def status_category(self, name: str, api: int = 3) -> dict[str, Any]:
        s = STATUSES[name]
        return {
            "self": f"{self.base}/rest/api/{api}/statuscategory/{s.category_id}",
            "id": s.category_id,
            "key": s.category_key,
            "colorName": s.color,
            "name": s.category_name,
        }

    def issuetype(self, name: str, api: int = 3) -> dict[str, Any]:
        t = ISSUE_TYPES[name]
        return {
            "self": f"{self.base}/rest/api/{api}/issuetype/{t['id']}",
            "id": t["id"],
            "name": name,
            "description": "",
            "subtask": t["subtask"],
            "hierarchyLevel": t["hierarchyLevel"],
            "iconUrl": f"{self.base}/images/icons/issuetypes/{name.lower()}.png",
            "avatarId": 10300,
        }

    def project(self, project: Project, api: int = 3) -> dict[str, Any]:
        avatar = f"{self.base}/secure/projectavatar?pid={project.id}"
        return {
            "self": f"{self.base}/rest/api/{api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": False,
            "avatarUrls": {size: avatar for size in ("16x16", "24x24", "32x32", "48x48")},
        }

    def sprint(self, sprint: SprintState) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": sprint.id,
            "self": f"{self.base}/rest/agile/1.0/sprint/{sprint.id}",
            "state": sprint.state,
            "name": sprint.name,
            "originBoardId": sprint.board_id,
            "goal": sprint.goal,
            "createdDate": self.time(sprint.created_ms),
        }
        if sprint.start_ms is not None:
            out["startDate"] = self.time(sprint.start_ms)
        if sprint.end_ms is not None:
            out["endDate"] = self.time(sprint.end_ms)
        if sprint.complete_ms is not None:
            out["completeDate"] = self.time(sprint.complete_ms)
        return out

    def sprint_in_issue(self, sprint: SprintState) -> dict[str, Any]:
        out = {
            k: v for k, v in self.sprint(sprint).items() if k not in ("self", "originBoardId", "createdDate")
        }
        out["boardId"] = sprint.board_id
        return out

    def comment(self, issue: Issue, c: Comment, api: int = 3) -> dict[str, Any]:
        return {
            "self": f"{self.base}/rest/api/{api}/issue/{issue.id}/comment/{c.id}",
            "id": c.id,
            "author": self.user(c.author, api),
            "updateAuthor": self.user(c.author, api),
            "body": adf(c.body) if api == 3 else c.body,
            "created": self.time(c.created_ms),
            "updated": self.time(c.updated_ms),
            "jsdPublic": True,
        }

    # --- the issue -------------------------------------------------------------------------
    def field_value(self, issue: Issue, fid: str, api: int) -> Any:
        f = issue.fields
        if fid == "summary":
            return f.get("summary", "")
        if fid == "description":
            text = f.get("description") or None
            return adf(text) if api == 3 else text
        if fid == "issuetype":
            return self.issuetype(f["issuetype"], api)
        if fid == "status":
            return self.status(f["status"], api)
        if fid == "statusCategory":
            return self.status_category(f["status"], api)
        if fid == "priority":
            name = f.get("priority")
            if not name:
                return None
            return {
                "self": f"{self.base}/rest/api/{api}/priority/{PRIORITIES[name]}",
                "id": PRIORITIES[name],
                "name": name,
                "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            }
        if fid in ("assignee", "reporter"):
            return self.user(f.get(fid), api)
        if fid == "labels":
            return list(f.get("labels", []))
        if fid == "duedate":
            return f.get("duedate")
        if fid == "created":
            return self.time(issue.created_ms)
        if fid == "updated":
            return self.time(issue.updated_ms)
        if fid == "resolutiondate":
            return self.time(issue.resolution_ms)
        if fid == "resolution":
            if issue.resolution_ms is None:
                return None
            return {
                "self": f"{self.base}/rest/api/{api}/resolution/10000",
                "id": "10000",
                "name": "Done",
                "description": "Work has been completed on this issue.",
            }
        if fid == "project":
            return self.project(self.store.projects[issue.project_key], api)
        if fid == "parent":
            parent = self.store.issues.get(f.get("parent") or -1)
            if parent is None:
                return None
            return {
                "id": str(parent.id),
                "key": parent.key,
                "self": f"{self.base}/rest/api/{api}/issue/{parent.id}",
                "fields": {
                    "summary": parent.fields["summary"],
                    "status": self.status(parent.fields["status"], api),
                    "issuetype": self.issuetype(parent.fields["issuetype"], api),
                    "priority": self.field_value(parent, "priority", api),
                },
            }
        if fid == "comment":
            comments = [self.comment(issue, c, api) for c in issue.comments]
            return {
                "comments": comments,
                "self": f"{self.base}/rest/api/{api}/issue/{issue.id}/comment",
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            }
        if fid == SPRINT_FIELD:
            sprints = [self.store.sprints[s] for s in f.get(SPRINT_FIELD, []) if s in self.store.sprints]
            return [self.sprint_in_issue(s) for s in sprints] or None
        if fid == FLAGGED_FIELD:
            if not f.get(FLAGGED_FIELD):
                return None
            return [
                {
                    "self": f"{self.base}/rest/api/{api}/customFieldOption/10019",
                    "value": "Impediment",
                    "id": "10019",
                }
            ]
        if fid == STORY_POINTS_FIELD:
            return f.get(STORY_POINTS_FIELD)
        if fid == "customfield_10019":
            return f"0|i{issue.id:05d}:"
        raise KeyError(fid)

    def issue(
        self, issue: Issue, fields: list[str] | None, api: int = 3, expand: Iterable[str] = ()
    ) -> dict[str, Any]:
        expand = set(expand)
        out: dict[str, Any] = {"id": str(issue.id)}
        if fields is None:
            return out
        out.update(
            {
                "expand": _EXPANDABLE,
                "self": f"{self.base}/rest/api/{api}/issue/{issue.id}",
                "key": issue.key,
            }
        )
        rendered: dict[str, Any] = {}
        for fid in fields:
            if fid in ("id", "key", "issuekey"):
                continue
            try:
                value = self.field_value(issue, fid, api)
            except KeyError:
                continue  # Jira silently drops unknown field ids
            if fid == "parent" and value is None:
                continue
            rendered[fid] = value
        out["fields"] = rendered
        if "changelog" in expand:
            histories = self.histories(issue, api)
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }
        if "properties" in expand:
            out["properties"] = dict(issue.properties)
        return out

    def histories(self, issue: Issue, api: int = 3) -> list[dict[str, Any]]:
        return [
            {
                "id": h["id"],
                "author": self.user(h["author"], api),
                "created": self.time(h["created_ms"]),
                "items": h["items"],
            }
            for h in issue.changelog
        ]
