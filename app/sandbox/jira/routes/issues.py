"""Issues: get, create, edit, delete, transitions, comments, changelog, entity properties."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import Response
from fastapi.responses import JSONResponse

from app.sandbox.jira.errors import JiraApiError
from app.sandbox.jira.fields_in import apply_update_ops, canonical_fields
from app.sandbox.jira.model import TRANSITIONS
from app.sandbox.jira.render import adf_text, select_fields
from app.sandbox.jira.routes._common import Call, int_param, json_body, list_param, platform_route

if TYPE_CHECKING:
    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["install_issue_routes"]

_ISSUE = "issue/{issueIdOrKey}"


def install_issue_routes(sim: JiraSimulator) -> None:
    users = set(sim.users)

    def key_of(call: Call) -> str:
        return call.path["issueIdOrKey"]

    async def body_of(call: Call) -> dict[str, Any]:
        body = await json_body(call.request)
        if not isinstance(body, dict):
            raise JiraApiError(400, "The request body must be a JSON object.")
        return body

    def text_of(call: Call, value: Any) -> str:
        try:
            return adf_text(value) if call.api == 3 else str(value or "")
        except ValueError as exc:
            raise JiraApiError(400, errors={"body": str(exc)}) from exc

    async def get_issue(call: Call) -> dict[str, Any]:
        fields = select_fields(list_param(call.request, "fields"), "*all")
        expand = list_param(call.request, "expand") or []
        with sim.lock:
            issue = sim.issue(key_of(call))
            out = sim.render.issue(issue, fields if fields is not None else [], call.api, expand)
            props = list_param(call.request, "properties") or []
            if props:
                out["properties"] = {k: issue.properties[k] for k in props if k in issue.properties}
            return out

    async def create_issue(call: Call) -> Response:
        body = await body_of(call)
        raw = dict(body.get("fields") or {})
        project_ref = raw.pop("project", None) or {}
        errors: dict[str, str] = {}
        if "summary" not in raw:
            errors["summary"] = "You must specify a summary of the issue."
        if "issuetype" not in raw:
            errors["issuetype"] = "Specify an issue type"
        project = sim.store.project(str(project_ref.get("key") or project_ref.get("id") or ""))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        properties = _entity_properties(body.get("properties"))
        if errors:
            raise JiraApiError(400, errors=errors)
        assert project is not None
        with sim.lock:
            values = canonical_fields(raw, call.api, sim.store, users)
            extra, comments = apply_update_ops(body.get("update") or {}, values, call.api, sim.store, users)
            values.update(extra)
            issue = sim.create_issue(project.key, values, actor=call.me, properties=properties)
            for text in comments:
                sim.add_comment(issue.key, text, actor=call.me)
        return JSONResponse(
            {
                "id": str(issue.id),
                "key": issue.key,
                "self": f"{sim.base_url}/rest/api/{call.api}/issue/{issue.id}",
            },
            status_code=201,
        )

    async def edit_issue(call: Call) -> Response | dict[str, Any]:
        body = await body_of(call)
        with sim.lock:
            issue = sim.issue(key_of(call))
            values = canonical_fields(dict(body.get("fields") or {}), call.api, sim.store, users)
            extra, comments = apply_update_ops(
                body.get("update") or {}, issue.fields, call.api, sim.store, users
            )
            values.update(extra)
            sim.edit_issue(issue.key, actor=call.me, **values)
            for text in comments:
                sim.add_comment(issue.key, text, actor=call.me)
            if call.query.get("returnIssue") == "true":
                return sim.render.issue(issue, select_fields(["*all"], "*all") or [], call.api)
        return Response(status_code=204)

    async def delete_issue(call: Call) -> None:
        sim.delete_issue(key_of(call), actor=call.me)

    def transition_json(tid: str, api: int) -> dict[str, Any]:
        target = TRANSITIONS[tid]
        return {
            "id": tid,
            "name": target,
            "to": sim.render.status(target, api),
            "hasScreen": False,
            "isGlobal": True,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }

    async def get_transitions(call: Call) -> dict[str, Any]:
        with sim.lock:
            issue = sim.issue(key_of(call))
            wanted = call.query.get("transitionId")
            tids = [t for t, s in TRANSITIONS.items() if s != issue.fields["status"] and wanted in (None, t)]
            return {"expand": "transitions", "transitions": [transition_json(t, call.api) for t in tids]}

    async def do_transition(call: Call) -> None:
        body = await body_of(call)
        tid = str((body.get("transition") or {}).get("id", ""))
        with sim.lock:
            issue = sim.issue(key_of(call))
            if tid not in TRANSITIONS or TRANSITIONS[tid] == issue.fields["status"]:
                raise JiraApiError(400, f"Transition id '{tid}' is not valid for this issue.")
            values = canonical_fields(dict(body.get("fields") or {}), call.api, sim.store, users)
            if values:
                sim.edit_issue(issue.key, actor=call.me, **values)
            sim.transition_issue(issue.key, TRANSITIONS[tid], actor=call.me)

    async def list_comments(call: Call) -> dict[str, Any]:
        start = int_param(call.request, "startAt", 0)
        limit = min(int_param(call.request, "maxResults", 100), 5000)
        with sim.lock:
            issue = sim.issue(key_of(call))
            ordered = list(issue.comments)
            if call.query.get("orderBy") in ("-created", "-updated"):
                ordered.reverse()
            page = ordered[start : start + limit]
            return {
                "startAt": start,
                "maxResults": limit,
                "total": len(ordered),
                "comments": [sim.render.comment(issue, c, call.api) for c in page],
            }

    async def add_comment(call: Call) -> Response:
        body = await body_of(call)
        text = text_of(call, body.get("body"))
        if not text.strip():
            raise JiraApiError(400, errors={"comment": "Comment body can not be empty!"})
        with sim.lock:
            comment = sim.add_comment(key_of(call), text, actor=call.me)
            issue = sim.issue(key_of(call))
            return JSONResponse(sim.render.comment(issue, comment, call.api), status_code=201)

    async def get_comment(call: Call) -> dict[str, Any]:
        with sim.lock:
            issue = sim.issue(key_of(call))
            return sim.render.comment(issue, sim._comment(issue, call.path["id"]), call.api)

    async def edit_comment(call: Call) -> dict[str, Any]:
        body = await body_of(call)
        with sim.lock:
            comment = sim.edit_comment(
                key_of(call), call.path["id"], text_of(call, body.get("body")), actor=call.me
            )
            return sim.render.comment(sim.issue(key_of(call)), comment, call.api)

    async def delete_comment(call: Call) -> None:
        sim.delete_comment(key_of(call), call.path["id"], actor=call.me)

    async def changelog(call: Call) -> dict[str, Any]:
        start = int_param(call.request, "startAt", 0)
        limit = min(int_param(call.request, "maxResults", 100), 100)
        with sim.lock:
            histories = sim.render.histories(sim.issue(key_of(call)), call.api)
        page = histories[start : start + limit]
        return {
            "self": str(call.request.url),
            "maxResults": limit,
            "startAt": start,
            "total": len(histories),
            "isLast": start + limit >= len(histories),
            "values": page,
        }

    async def property_keys(call: Call) -> dict[str, Any]:
        with sim.lock:
            issue = sim.issue(key_of(call))
            base = f"{sim.base_url}/rest/api/{call.api}/issue/{issue.id}/properties"
            return {"keys": [{"key": k, "self": f"{base}/{k}"} for k in issue.properties]}

    async def get_property(call: Call) -> dict[str, Any]:
        with sim.lock:
            issue = sim.issue(key_of(call))
            key = call.path["propertyKey"]
            if key not in issue.properties:
                raise JiraApiError(404, f"The property with key '{key}' does not exist.")
            return {"key": key, "value": issue.properties[key]}

    async def put_property(call: Call) -> Response:
        raw = await call.request.body()
        if len(raw) > 32_768:
            raise JiraApiError(400, "The property value is too long (32768 bytes at most).")
        value = await json_body(call.request)
        created = sim.set_property(key_of(call), call.path["propertyKey"], value)
        return Response(status_code=201 if created else 200)

    async def delete_property(call: Call) -> None:
        sim.delete_property(key_of(call), call.path["propertyKey"])

    platform_route(sim, "POST", "issue", create_issue)
    platform_route(sim, "GET", _ISSUE, get_issue)
    platform_route(sim, "PUT", _ISSUE, edit_issue)
    platform_route(sim, "DELETE", _ISSUE, delete_issue)
    platform_route(sim, "GET", f"{_ISSUE}/transitions", get_transitions)
    platform_route(sim, "POST", f"{_ISSUE}/transitions", do_transition)
    platform_route(sim, "GET", f"{_ISSUE}/comment", list_comments)
    platform_route(sim, "POST", f"{_ISSUE}/comment", add_comment)
    platform_route(sim, "GET", f"{_ISSUE}/comment/{{id}}", get_comment)
    platform_route(sim, "PUT", f"{_ISSUE}/comment/{{id}}", edit_comment)
    platform_route(sim, "DELETE", f"{_ISSUE}/comment/{{id}}", delete_comment)
    platform_route(sim, "GET", f"{_ISSUE}/changelog", changelog)
    platform_route(sim, "GET", f"{_ISSUE}/properties", property_keys)
    platform_route(sim, "GET", f"{_ISSUE}/properties/{{propertyKey}}", get_property)
    platform_route(sim, "PUT", f"{_ISSUE}/properties/{{propertyKey}}", put_property)
    platform_route(sim, "DELETE", f"{_ISSUE}/properties/{{propertyKey}}", delete_property)


def _entity_properties(raw: Any) -> dict[str, Any]:
    """A create's ``properties`` (``EntityProperty`` items: ``key`` and ``value``, both required) by key."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise JiraApiError(400, "properties must be a list of entity properties.")
    out: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"] or "value" not in item:
            raise JiraApiError(400, "Each entity property needs a key and a value.")
        if len(item["key"]) > 255:
            raise JiraApiError(400, "The property key can not be longer than 255 characters.")
        if len(json.dumps(item["value"])) > 32_768:
            raise JiraApiError(400, "The property value is too long (32768 bytes at most).")
        out[item["key"]] = item["value"]
    return out
