"""serverInfo, myself, field, projects and permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.sandbox.jira.errors import JiraApiError
from app.sandbox.jira.model import FIELD_CATALOGUE
from app.sandbox.jira.routes._common import Call, int_param, list_param, platform_route
from app.sandbox.jira.store import now_ms

if TYPE_CHECKING:
    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["install_platform_routes"]

_PERMISSIONS = {
    "BROWSE_PROJECTS": ("10", "Browse Projects", "Ability to browse projects and the issues within them."),
    "CREATE_ISSUES": ("11", "Create Issues", "Ability to create issues."),
    "EDIT_ISSUES": ("12", "Edit Issues", "Ability to edit issues."),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "Ability to transition issues."),
    "ADD_COMMENTS": ("15", "Add Comments", "Ability to comment on issues."),
    "DELETE_ISSUES": ("16", "Delete Issues", "Ability to delete issues."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "Ability to administer a project in Jira."),
}


def install_platform_routes(sim: JiraSimulator) -> None:
    async def server_info(call: Call) -> dict[str, Any]:
        return {
            "baseUrl": sim.base_url,
            "displayUrl": sim.base_url,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": sim.deployment_type,
            "buildNumber": 100289,
            "buildDate": "2026-11-20T03:12:43.000+0000",
            "serverTime": sim.render.time(now_ms()),
            "scmInfo": "f1e2d3c4b5a6978877665544332211aabbccddee",
            "serverTitle": "Jira",
            "serverTimeZone": sim.world.timezone,
        }

    async def myself(call: Call) -> dict[str, Any]:
        user = sim.render.user(call.me, call.api) or {}
        user.update(
            {
                "locale": "en_GB",
                "expand": "groups,applicationRoles",
                "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []},
            }
        )
        return user

    async def fields(call: Call) -> list[dict[str, Any]]:
        return FIELD_CATALOGUE

    async def projects(call: Call) -> list[dict[str, Any]]:
        return [sim.render.project(p, call.api) for p in sim.store.projects.values()]

    async def project_search(call: Call) -> dict[str, Any]:
        start = int_param(call.request, "startAt", 0)
        limit = min(int_param(call.request, "maxResults", 50), 100)
        wanted = set(list_param(call.request, "keys") or [])
        query = (call.query.get("query") or "").lower()
        chosen = [
            p
            for p in sim.store.projects.values()
            if (not wanted or p.key in wanted) and (query in p.key.lower() or query in p.name.lower())
        ]
        page = chosen[start : start + limit]
        return {
            "self": str(call.request.url),
            "maxResults": limit,
            "startAt": start,
            "total": len(chosen),
            "isLast": start + limit >= len(chosen),
            "values": [sim.render.project(p, call.api) for p in page],
        }

    async def project(call: Call) -> dict[str, Any]:
        found = sim.store.project(call.path["projectIdOrKey"])
        if found is None:
            raise JiraApiError(404, f"No project could be found with key '{call.path['projectIdOrKey']}'.")
        out = sim.render.project(found, call.api)
        out.update(
            {
                "lead": sim.render.user(found.lead, call.api),
                "description": "",
                "assigneeType": "UNASSIGNED",
                "issueTypes": [],
                "isPrivate": False,
                "style": "classic",
            }
        )
        return out

    async def my_permissions(call: Call) -> dict[str, Any]:
        names = list_param(call.request, "permissions")
        if not names:
            raise JiraApiError(400, "The permissions query parameter is required.")
        key = call.query.get("projectKey") or call.query.get("projectId")
        if key is not None and sim.store.project(key) is None:
            raise JiraApiError(404, f"No project could be found with key '{key}'.")
        out: dict[str, Any] = {}
        for name in names:
            if name not in _PERMISSIONS:
                raise JiraApiError(400, f"The permission '{name}' is not supported.")
            pid, label, description = _PERMISSIONS[name]
            out[name] = {
                "id": pid,
                "key": name,
                "name": label,
                "type": "PROJECT",
                "description": description,
                "havePermission": name not in sim.denied_permissions,
            }
        return {"permissions": out}

    platform_route(sim, "GET", "serverInfo", server_info)
    platform_route(sim, "GET", "myself", myself)
    platform_route(sim, "GET", "field", fields)
    platform_route(sim, "GET", "project", projects)
    platform_route(sim, "GET", "project/search", project_search)
    platform_route(sim, "GET", "project/{projectIdOrKey}", project)
    platform_route(sim, "GET", "mypermissions", my_permissions)
