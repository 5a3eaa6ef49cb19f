"""``/_sandbox`` mutations that act as a Jira user would (each fires webhooks).

Bodies use canonical values: ``{"summary": "...", "issuetype": "Bug", "assignee": "<accountId>",
"labels": [...], "customfield_10020": [<sprint id>], ...}``; ``actor`` optionally names the
acting account id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.jira.errors import JiraApiError
from app.sandbox.jira.routes._common import json_body

if TYPE_CHECKING:
    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["install_admin_routes"]

_PREFIX = "/_sandbox"


def install_admin_routes(sim: JiraSimulator) -> None:
    app = sim.app

    def summary(key: str) -> dict[str, Any]:
        issue = sim.issue(key)
        return {
            "id": str(issue.id),
            "key": issue.key,
            "updated": issue.updated_ms,
            "fields": {k: v for k, v in issue.fields.items()},
        }

    async def body_of(request: Request) -> dict[str, Any]:
        body = await json_body(request)
        return body if isinstance(body, dict) else {}

    @app.post(f"{_PREFIX}/issues")
    async def create(request: Request) -> Response:
        body = await body_of(request)
        fields = dict(body.get("fields") or {})
        issue = sim.create_issue(str(body.get("project") or sim.world.project_key), fields, body.get("actor"))
        return JSONResponse(summary(str(issue.id)), status_code=201)

    @app.patch(f"{_PREFIX}/issues/{{key}}")
    async def edit(key: str, request: Request) -> Response:
        body = await body_of(request)
        actor = body.pop("actor", None)
        issue = sim.edit_issue(key, actor=actor, **dict(body.get("fields") or body))
        return JSONResponse(summary(str(issue.id)))

    @app.post(f"{_PREFIX}/issues/{{key}}/transition")
    async def transition(key: str, request: Request) -> Response:
        body = await body_of(request)
        issue = sim.transition_issue(key, str(body.get("status")), body.get("actor"))
        return JSONResponse(summary(str(issue.id)))

    @app.post(f"{_PREFIX}/issues/{{key}}/move")
    async def move(key: str, request: Request) -> Response:
        body = await body_of(request)
        issue = sim.move_issue(key, str(body.get("project")), body.get("actor"))
        return JSONResponse(summary(str(issue.id)))

    @app.delete(f"{_PREFIX}/issues/{{key}}")
    async def delete(key: str) -> Response:
        sim.delete_issue(key)
        return Response(status_code=204)

    @app.post(f"{_PREFIX}/issues/{{key}}/comments")
    async def comment(key: str, request: Request) -> Response:
        body = await body_of(request)
        created = sim.add_comment(key, str(body.get("body") or ""), body.get("actor"))
        return JSONResponse({"id": created.id, "body": created.body}, status_code=201)

    @app.post(f"{_PREFIX}/projects")
    async def project(request: Request) -> Response:
        body = await body_of(request)
        created = sim.add_project(str(body["key"]), str(body.get("name") or body["key"]))
        return JSONResponse({"id": created.id, "key": created.key}, status_code=201)

    @app.post(f"{_PREFIX}/webhooks")
    async def register(request: Request) -> Response:
        body = await body_of(request)
        if not isinstance(body.get("url"), str):
            raise JiraApiError(400, "url is required")
        hook = sim.register_webhook(
            body["url"],
            list(body.get("events") or []),
            str(body.get("jqlFilter") or ""),
            secret=body.get("secret"),
        )
        return JSONResponse({"id": hook.id, "url": hook.url, "events": hook.events}, status_code=201)

    @app.delete(f"{_PREFIX}/webhooks/{{hook_id}}")
    async def unregister(hook_id: int) -> Response:
        with sim.lock:
            sim.store.webhooks.pop(hook_id, None)
        return Response(status_code=204)

    @app.put(f"{_PREFIX}/permissions")
    async def permissions(request: Request) -> Response:
        body = await body_of(request)
        sim.denied_permissions = set(body.get("denied") or [])
        return JSONResponse({"denied": sorted(sim.denied_permissions)})
