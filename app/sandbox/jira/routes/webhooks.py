"""REST-registered webhooks: ``/rest/api/{2,3}/webhook`` (expire after 30 days) and ``webhook/refresh``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Response

from app.sandbox.jira.errors import JiraApiError
from app.sandbox.jira.jql_parse import JqlError, parse
from app.sandbox.jira.routes._common import Call, int_param, json_body, platform_route

if TYPE_CHECKING:
    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["EVENTS", "install_webhook_routes"]

EVENTS = frozenset(
    {
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
        "comment_created",
        "comment_updated",
        "comment_deleted",
        "issue_property_set",
        "issue_property_deleted",
    }
)
_LIFETIME_MS = 30 * 86_400_000


def install_webhook_routes(sim: JiraSimulator) -> None:
    def ids_of(body: Any) -> list[int]:
        ids = body.get("webhookIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise JiraApiError(400, "webhookIds must be a list of webhook ids.")
        return ids

    async def register(call: Call) -> dict[str, Any]:
        body = await json_body(call.request)
        if not isinstance(body, dict) or not isinstance(body.get("url"), str) or not body.get("webhooks"):
            raise JiraApiError(400, "The request must name a url and at least one webhook.")
        results: list[dict[str, Any]] = []
        for spec in body["webhooks"]:
            events = list(spec.get("events") or [])
            jql = spec.get("jqlFilter")
            errors = [f"The event {e} is not supported" for e in events if e not in EVENTS]
            if not events:
                errors.append("At least one event is required")
            if not isinstance(jql, str):
                errors.append("The jqlFilter is required")
            else:
                try:
                    parse(jql)
                except JqlError as exc:
                    errors.append(str(exc))
            if errors:
                results.append({"errors": errors})
                continue
            hook = sim.register_webhook(
                body["url"], events, jql or "", expires=True, field_ids_filter=spec.get("fieldIdsFilter")
            )
            results.append({"createdWebhookId": hook.id})
        return {"webhookRegistrationResult": results}

    async def list_hooks(call: Call) -> dict[str, Any]:
        start = int_param(call.request, "startAt", 0)
        limit = min(int_param(call.request, "maxResults", 100), 100)
        with sim.lock:
            hooks = [h for h in sim.store.webhooks.values() if h.expires_ms is not None]
            values = []
            for hook in hooks[start : start + limit]:
                item: dict[str, Any] = {
                    "id": hook.id,
                    "url": hook.url,
                    "jqlFilter": hook.jql_filter,
                    "events": hook.events,
                    "expirationDate": hook.expires_ms,
                }
                if hook.field_ids_filter:
                    item["fieldIdsFilter"] = hook.field_ids_filter
                values.append(item)
        return {
            "isLast": start + limit >= len(hooks),
            "maxResults": limit,
            "startAt": start,
            "total": len(hooks),
            "values": values,
        }

    async def delete_hooks(call: Call) -> Response:
        ids = ids_of(await json_body(call.request))
        with sim.lock:
            for hook_id in ids:
                sim.store.webhooks.pop(hook_id, None)
        return Response(status_code=202)

    async def refresh(call: Call) -> dict[str, Any]:
        ids = ids_of(await json_body(call.request))
        with sim.lock:
            expires = sim.store.tick() + _LIFETIME_MS
            for hook_id in ids:
                hook = sim.store.webhooks.get(hook_id)
                if hook is not None and hook.expires_ms is not None:
                    hook.expires_ms = expires
        return {"expirationDate": expires}

    platform_route(sim, "POST", "webhook", register)
    platform_route(sim, "GET", "webhook", list_hooks)
    platform_route(sim, "DELETE", "webhook", delete_hooks)
    platform_route(sim, "PUT", "webhook/refresh", refresh)
