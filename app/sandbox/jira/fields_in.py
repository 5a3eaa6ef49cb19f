"""Issue fields as clients send them (create / edit bodies) -> the store's canonical values."""

from __future__ import annotations

from typing import Any

from app.sandbox.jira.errors import JiraApiError
from app.sandbox.jira.model import (
    FLAGGED_FIELD,
    ISSUE_TYPES,
    PRIORITIES,
    SPRINT_FIELD,
    STORY_POINTS_FIELD,
)
from app.sandbox.jira.render import adf_text
from app.sandbox.jira.store import JiraStore

__all__ = ["apply_update_ops", "canonical_fields"]


def _named(value: Any, catalogue: dict[str, Any], ids: dict[str, str], field: str) -> str:
    if isinstance(value, dict):
        if "name" in value and value["name"] in catalogue:
            return str(value["name"])
        if "id" in value and str(value["id"]) in ids:
            return ids[str(value["id"])]
    raise JiraApiError(400, errors={field: f"Specify a valid '{field}' id or name"})


def canonical_fields(raw: dict[str, Any], api: int, store: JiraStore, users: set[str]) -> dict[str, Any]:
    """Translate a ``fields`` object; raises 400 with Jira's per-field errors."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for fid, value in raw.items():
        try:
            if fid == "summary":
                if not isinstance(value, str) or not value.strip():
                    raise JiraApiError(400, errors={"summary": "You must specify a summary of the issue."})
                if len(value) > 255:
                    raise JiraApiError(400, errors={"summary": "Summary must be less than 255 characters."})
                out["summary"] = value
            elif fid == "description":
                if api == 2 and value is not None and not isinstance(value, str):
                    raise JiraApiError(400, errors={"description": "Operation value must be a string"})
                try:
                    out["description"] = adf_text(value) if api == 3 and value is not None else (value or "")
                except ValueError as exc:
                    raise JiraApiError(400, errors={"description": str(exc)}) from exc
                if api == 3 and isinstance(value, str):
                    raise JiraApiError(
                        400,
                        errors={
                            "description": "Operation value must be an Atlassian "
                            "Document (see the Atlassian Document Format)"
                        },
                    )
            elif fid == "issuetype":
                ids = {str(t["id"]): name for name, t in ISSUE_TYPES.items()}
                out["issuetype"] = _named(value, ISSUE_TYPES, ids, "issuetype")
            elif fid == "priority":
                ids = {v: k for k, v in PRIORITIES.items()}
                out["priority"] = None if value is None else _named(value, PRIORITIES, ids, "priority")
            elif fid in ("assignee", "reporter"):
                account = value.get("accountId") if isinstance(value, dict) else None
                if value is not None and account not in users:
                    raise JiraApiError(400, errors={fid: f"User '{account}' cannot be assigned issues."})
                out[fid] = account
            elif fid == "labels":
                if not isinstance(value, list) or not all(isinstance(v, str) and " " not in v for v in value):
                    raise JiraApiError(400, errors={"labels": "The label must not contain spaces."})
                out["labels"] = list(dict.fromkeys(value))
            elif fid == "duedate":
                out["duedate"] = value or None
            elif fid == "parent":
                parent = (
                    store.find(str(value.get("key") or value.get("id"))) if isinstance(value, dict) else None
                )
                if value is not None and parent is None:
                    raise JiraApiError(400, errors={"parent": "Could not find issue by id or key."})
                out["parent"] = parent.id if parent else None
            elif fid == SPRINT_FIELD:
                if value is None:
                    out[SPRINT_FIELD] = []
                elif isinstance(value, int) and value in store.sprints:
                    out[SPRINT_FIELD] = [value]
                else:
                    raise JiraApiError(400, errors={SPRINT_FIELD: "Number value expected as the Sprint id."})
            elif fid == STORY_POINTS_FIELD:
                if value is not None and not isinstance(value, int | float):
                    raise JiraApiError(400, errors={fid: "Operation value must be a number"})
                out[fid] = None if value is None else float(value)
            elif fid == FLAGGED_FIELD:
                out[fid] = bool(value)
            elif fid in ("project", "status"):
                if fid == "status":
                    raise JiraApiError(
                        400,
                        errors={
                            "status": "Field 'status' cannot be set. It is not on the "
                            "appropriate screen, or unknown."
                        },
                    )
            else:
                raise JiraApiError(
                    400,
                    errors={
                        fid: f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
                    },
                )
        except JiraApiError as exc:
            errors.update(exc.errors)
    if errors:
        raise JiraApiError(400, errors=errors)
    return out


def apply_update_ops(
    update: dict[str, Any], current: dict[str, Any], api: int, store: JiraStore, users: set[str]
) -> tuple[dict[str, Any], list[str]]:
    """The ``update`` verbs (set / add / remove) for fields; returns (fields, comment bodies to add)."""
    fields: dict[str, Any] = {}
    comments: list[str] = []
    for fid, operations in update.items():
        for op in operations if isinstance(operations, list) else []:
            if not isinstance(op, dict):
                continue
            for verb, value in op.items():
                if fid == "comment" and verb == "add":
                    comments.append(adf_text(value.get("body")) if api == 3 else str(value.get("body", "")))
                elif fid == "labels" and verb in ("add", "remove"):
                    labels = list(fields.get("labels", current.get("labels", [])))
                    if verb == "add" and value not in labels:
                        labels.append(value)
                    if verb == "remove" and value in labels:
                        labels.remove(value)
                    fields["labels"] = labels
                elif verb == "set":
                    fields.update(canonical_fields({fid: value}, api, store, users))
                else:
                    raise JiraApiError(
                        400, errors={fid: f"Operation '{verb}' is not supported on field '{fid}'."}
                    )
    return fields, comments
