"""Jira Software agile API: boards, sprints and their issues (``/rest/agile/1.0``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.sandbox.jira.errors import JiraApiError
from app.sandbox.jira.model import FLAGGED_FIELD, SPRINT_FIELD, Board, Issue, SprintState
from app.sandbox.jira.render import select_fields
from app.sandbox.jira.routes._common import Call, int_param, list_param, route

if TYPE_CHECKING:
    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["install_agile_routes"]

_AGILE = "/rest/agile/1.0"
_MAX_SPRINTS = 50
_MAX_ISSUES = 100


def install_agile_routes(sim: JiraSimulator) -> None:
    def board_json(board: Board) -> dict[str, Any]:
        project = sim.store.projects[board.project_key]
        return {
            "id": board.id,
            "self": f"{sim.base_url}{_AGILE}/board/{board.id}",
            "name": board.name,
            "type": board.type,
            "location": {
                "projectId": int(project.id),
                "projectKey": project.key,
                "projectName": project.name,
                "displayName": f"{project.name} ({project.key})",
                "projectTypeKey": "software",
                "name": f"{project.name} ({project.key})",
            },
        }

    def board_of(call: Call) -> Board:
        try:
            board = sim.store.boards.get(int(call.path["boardId"]))
        except ValueError:
            board = None
        if board is None:
            raise JiraApiError(
                404,
                "The requested board cannot be viewed because it either does not exist "
                "or you do not have permission to view it.",
            )
        return board

    def sprint_of(call: Call) -> SprintState:
        try:
            sprint = sim.store.sprints.get(int(call.path["sprintId"]))
        except ValueError:
            sprint = None
        if sprint is None:
            raise JiraApiError(404, "Sprint does not exist or you do not have permission to view it.")
        return sprint

    def paged(call: Call, items: list[Any], cap: int, key: str = "values") -> dict[str, Any]:
        start = int_param(call.request, "startAt", 0)
        limit = min(int_param(call.request, "maxResults", cap), cap)
        page = items[start : start + limit]
        return {"maxResults": limit, "startAt": start, "isLast": start + limit >= len(items), key: page}

    def agile_issue(issue: Issue, fields: list[str] | None) -> dict[str, Any]:
        out = sim.render.issue(issue, fields, api=2)
        if fields is not None and "fields" in out:
            sprints = [
                sim.store.sprints[s] for s in issue.fields.get(SPRINT_FIELD, []) if s in sim.store.sprints
            ]
            current = next((s for s in sprints if s.state != "closed"), None)
            out["fields"]["sprint"] = sim.render.sprint(current) if current else None
            out["fields"]["closedSprints"] = [sim.render.sprint(s) for s in sprints if s.state == "closed"]
            out["fields"]["flagged"] = bool(issue.fields.get(FLAGGED_FIELD))
        return out

    def issue_page(call: Call, issues: list[Issue]) -> dict[str, Any]:
        jql = call.query.get("jql")
        if jql:
            predicate = sim.plan(jql, call.me).predicate
            issues = [i for i in issues if predicate(i)]
        fields = select_fields(list_param(call.request, "fields"), "*navigable")
        start = int_param(call.request, "startAt", 0)
        limit = min(int_param(call.request, "maxResults", 50), _MAX_ISSUES)
        page = issues[start : start + limit]
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": limit,
            "total": len(issues),
            "issues": [agile_issue(i, fields) for i in page],
        }

    async def boards(call: Call) -> dict[str, Any]:
        wanted = call.query.get("projectKeyOrId")
        kind = call.query.get("type")
        with sim.lock:
            chosen = [
                board_json(b)
                for b in sim.store.boards.values()
                if (wanted is None or wanted in (b.project_key, sim.store.projects[b.project_key].id))
                and (kind is None or b.type in kind.split(","))
            ]
        out = paged(call, chosen, 50)
        out["total"] = len(chosen)
        return out

    async def board(call: Call) -> dict[str, Any]:
        with sim.lock:
            return board_json(board_of(call))

    async def board_sprints(call: Call) -> dict[str, Any]:
        states = set((call.query.get("state") or "future,active,closed").split(","))
        with sim.lock:
            chosen_board = board_of(call)
            sprints = [
                sim.render.sprint(s)
                for s in sorted(sim.store.sprints.values(), key=lambda s: s.id)
                if s.board_id == chosen_board.id and s.state in states
            ]
        return paged(call, sprints, _MAX_SPRINTS)

    async def sprint(call: Call) -> dict[str, Any]:
        with sim.lock:
            return sim.render.sprint(sprint_of(call))

    async def sprint_issues(call: Call) -> dict[str, Any]:
        with sim.lock:
            chosen = sprint_of(call)
            issues = [
                sim.store.issues[i]
                for i in sim.store.ids
                if chosen.id in sim.store.issues[i].fields.get(SPRINT_FIELD, [])
            ]
            return issue_page(call, issues)

    async def backlog(call: Call) -> dict[str, Any]:
        with sim.lock:
            chosen_board = board_of(call)
            open_ids = {s.id for s in sim.store.sprints.values() if s.state != "closed"}
            issues = [
                sim.store.issues[i]
                for i in sim.store.ids
                if sim.store.issues[i].project_key == chosen_board.project_key
                and not open_ids & set(sim.store.issues[i].fields.get(SPRINT_FIELD, []))
                and sim.store.issues[i].fields["status"] != "Done"
            ]
            return issue_page(call, issues)

    route(sim, "GET", f"{_AGILE}/board", boards, 1)
    route(sim, "GET", f"{_AGILE}/board/{{boardId}}", board, 1)
    route(sim, "GET", f"{_AGILE}/board/{{boardId}}/sprint", board_sprints, 1)
    route(sim, "GET", f"{_AGILE}/board/{{boardId}}/backlog", backlog, 1)
    route(sim, "GET", f"{_AGILE}/sprint/{{sprintId}}", sprint, 1)
    route(sim, "GET", f"{_AGILE}/sprint/{{sprintId}}/issue", sprint_issues, 1)
