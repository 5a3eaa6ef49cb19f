"""Issue search: enhanced ``search/jql`` (``nextPageToken``, no ``total``) and the old offset ``search``.

Page sizes follow Jira Cloud: ``search/jql`` returns at most 5000 issues per page when
only ``id``/``key`` are asked for, otherwise at most 100; the old ``search`` at most 100.
The enhanced search refuses unbounded queries (no restriction before ``ORDER BY``).
It is eventually consistent, as Jira Cloud documents ("recent updates might not be immediately
visible"): with ``sim.index_lag_ms`` set, an issue changed less than that long ago is missing
from its results, unless its id is in ``reconcileIssues`` (at most 50 ids).
Paging is keyset-based on the store's sorted indexes, so a page costs O(log n + page).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import TYPE_CHECKING, Any

from app.sandbox.jira.errors import JiraApiError
from app.sandbox.jira.jql_eval import Plan, sort_key
from app.sandbox.jira.model import Issue
from app.sandbox.jira.render import select_fields
from app.sandbox.jira.routes._common import Call, int_param, json_body, list_param, platform_route
from app.sandbox.jira.store import now_ms

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["ID_ONLY_MAX_RESULTS", "MAX_RESULTS", "install_search_routes", "page_of"]

MAX_RESULTS = 100
ID_ONLY_MAX_RESULTS = 5000
RECONCILE_MAX = 50
_ID_FIELDS = {"id", "key", "issuekey"}


def _token(jql: str, position: Any) -> str:
    raw = json.dumps({"q": zlib.crc32(jql.encode()), "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(jql: str, token: str | None) -> Any:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] != zlib.crc32(jql.encode()):
            raise ValueError("token of another query")
        return data["p"]
    except (ValueError, KeyError, TypeError) as exc:
        raise JiraApiError(400, "The provided next page token is invalid or expired.") from exc


def _scan(sim: JiraSimulator, plan: Plan, position: Any) -> Iterator[Issue]:
    store = sim.store
    if plan.index == "updated":
        after = (int(position[0]), int(position[1])) if position is not None else None
        yield from store.scan_updated(after, plan.lower_updated_ms, plan.descending)
    elif plan.index == "id":
        yield from store.scan_ids(position, plan.descending)
    else:
        matching = [i for i in store.issues.values() if plan.predicate(i)]
        for term in reversed(plan.order):
            matching.sort(key=_by(term.field), reverse=term.descending)
        yield from matching[position or 0 :]


def page_of(
    sim: JiraSimulator,
    jql: str,
    plan: Plan,
    token: str | None,
    limit: int,
    visible: Callable[[Issue], bool] | None = None,
) -> tuple[list[Issue], str | None]:
    """One page of matching issues and the token of the next page (None on the last page)."""
    position = _position(jql, token)
    out: list[Issue] = []
    more = False
    for issue in _scan(sim, plan, position):
        if visible is not None and not visible(issue):
            continue
        if plan.index == "sort" or plan.predicate(issue):
            if len(out) == limit:
                more = True
                break
            out.append(issue)
    if not more or not out:
        return out, None
    last = out[-1]
    if plan.index == "updated":
        nxt: Any = [last.updated_ms, last.id]
    elif plan.index == "id":
        nxt = last.id
    else:
        nxt = (position or 0) + len(out)
    return out, _token(jql, nxt)


def _render_page(
    sim: JiraSimulator,
    issues: list[Issue],
    fields: list[str] | None,
    api: int,
    expand: list[str],
    properties: list[str],
) -> list[dict[str, Any]]:
    rendered = []
    for issue in issues:
        item = sim.render.issue(issue, fields, api, expand)
        if properties:
            item["properties"] = {k: issue.properties[k] for k in properties if k in issue.properties}
        rendered.append(item)
    return rendered


def install_search_routes(sim: JiraSimulator) -> None:
    def enhanced(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        jql = str(params.get("jql") or "")
        sim.search_log.append(
            {
                "jql": jql,
                "maxResults": params.get("maxResults"),
                "fields": params.get("fields"),
                "nextPageToken": params.get("nextPageToken"),
                "reconcileIssues": params.get("reconcileIssues"),
            }
        )
        fields = select_fields(params.get("fields"), "id")
        only_ids = fields is None or set(fields) <= _ID_FIELDS
        cap = ID_ONLY_MAX_RESULTS if only_ids else MAX_RESULTS
        limit = params.get("maxResults")
        limit = 50 if limit is None else int(limit)
        if limit < 0:
            raise JiraApiError(400, "The maxResults parameter must be a positive number.")
        limit = min(limit, cap) or cap
        visible = _indexed(sim, params.get("reconcileIssues"))
        with sim.lock:
            plan = sim.plan(jql, call.me)
            if plan.predicate is None or not jql.strip() or _unbounded(jql):
                raise JiraApiError(
                    400,
                    "Unbounded JQL queries are not allowed here. Please add a search "
                    "restriction to your query.",
                )
            issues, token = page_of(sim, jql, plan, params.get("nextPageToken"), limit, visible)
            expand = [e.strip() for e in str(params.get("expand") or "").split(",") if e.strip()]
            out: dict[str, Any] = {
                "issues": _render_page(
                    sim, issues, fields, call.api, expand, list(params.get("properties") or [])
                )
            }
        if token:
            out["nextPageToken"] = token
        out["isLast"] = token is None
        return out

    async def search_jql_get(call: Call) -> dict[str, Any]:
        q = call.request.query_params
        return enhanced(
            call,
            {
                "jql": q.get("jql"),
                "nextPageToken": q.get("nextPageToken"),
                "maxResults": int_param(call.request, "maxResults", 50),
                "fields": list_param(call.request, "fields"),
                "expand": q.get("expand"),
                "properties": list_param(call.request, "properties"),
                "reconcileIssues": list_param(call.request, "reconcileIssues"),
            },
        )

    async def search_jql_post(call: Call) -> dict[str, Any]:
        body = await json_body(call.request)
        if not isinstance(body, dict):
            raise JiraApiError(400, "The request body must be a JSON object.")
        return enhanced(call, body)

    def offset_search(call: Call, params: dict[str, Any]) -> dict[str, Any]:
        jql = str(params.get("jql") or "")
        start = int(params.get("startAt") or 0)
        limit = min(int(params["maxResults"]) if params.get("maxResults") is not None else 50, MAX_RESULTS)
        fields = select_fields(params.get("fields"), "*navigable")
        expand = [e.strip() for e in str(params.get("expand") or "").split(",") if e.strip()]
        with sim.lock:
            plan = sim.plan(jql, call.me)
            matching = [i for i in _scan(sim, plan, None) if plan.index == "sort" or plan.predicate(i)]
            page = matching[start : start + limit]
            issues = _render_page(sim, page, fields or [], call.api, expand, [])
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": limit,
            "total": len(matching),
            "issues": issues,
        }

    async def search_get(call: Call) -> dict[str, Any]:
        q = call.request.query_params
        return offset_search(
            call,
            {
                "jql": q.get("jql"),
                "startAt": int_param(call.request, "startAt", 0),
                "maxResults": int_param(call.request, "maxResults", 50),
                "fields": list_param(call.request, "fields"),
                "expand": q.get("expand"),
            },
        )

    async def search_post(call: Call) -> dict[str, Any]:
        body = await json_body(call.request)
        if not isinstance(body, dict):
            raise JiraApiError(400, "The request body must be a JSON object.")
        return offset_search(call, body)

    platform_route(sim, "GET", "search/jql", search_jql_get)
    platform_route(sim, "POST", "search/jql", search_jql_post)
    platform_route(sim, "GET", "search", search_get)
    platform_route(sim, "POST", "search", search_post)


def _indexed(sim: JiraSimulator, reconcile: Any) -> Callable[[Issue], bool] | None:
    """Which issues the search index already shows (None: all of them)."""
    if reconcile is not None and not isinstance(reconcile, list):
        raise JiraApiError(400, "reconcileIssues must be a list of issue ids.")
    try:
        reconciled = {int(i) for i in reconcile or []}
    except (TypeError, ValueError) as exc:
        raise JiraApiError(400, "reconcileIssues must be a list of issue ids.") from exc
    if len(reconciled) > RECONCILE_MAX:
        raise JiraApiError(400, f"reconcileIssues accepts at most {RECONCILE_MAX} issue ids.")
    if sim.index_lag_ms <= 0:
        return None
    indexed_before = now_ms() - sim.index_lag_ms
    return lambda issue: issue.updated_ms <= indexed_before or issue.id in reconciled


def _by(field: str) -> Callable[[Issue], Any]:
    return lambda issue: sort_key(issue, field)


def _unbounded(jql: str) -> bool:
    stripped = jql.strip().lower()
    return stripped.startswith("order by") or not stripped
