"""Slack's ``/_sandbox`` routes: the Events API request URL, rate limits, tokens, and changes made
as a user would make them (post, reply, edit, delete, react), which fire events.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.common.simulator import ADMIN_PREFIX
from app.sandbox.slack.timestamps import InvalidTs
from app.sandbox.slack.workspace import SlackError

if TYPE_CHECKING:
    from app.sandbox.slack.simulator import SlackSimulator

__all__ = ["install_admin_routes"]


async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    data = json.loads(body) if body else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _refused(exc: Exception) -> Response:
    if isinstance(exc, SlackError):
        status = 404 if exc.code.endswith("not_found") else 409
        return JSONResponse({"ok": False, "error": exc.code}, status_code=status)
    return JSONResponse({"ok": False, "error": "invalid_arguments", "detail": str(exc)}, status_code=400)


def install_admin_routes(sim: SlackSimulator) -> None:
    app = sim.app

    @app.put(f"{ADMIN_PREFIX}/events")
    async def configure_events(request: Request) -> Response:
        try:
            data = await _json(request)
            url, secret = str(data["url"]), str(data["signing_secret"])
        except (KeyError, ValueError) as exc:
            return _refused(exc)
        ok, detail = await sim.events.configure(url, secret, data.get("retry_delays_s"))
        return JSONResponse({"ok": ok, "detail": detail}, status_code=200 if ok else 400)

    @app.delete(f"{ADMIN_PREFIX}/events")
    def clear_events() -> dict[str, Any]:
        sim.events.clear()
        return {"ok": True}

    @app.get(f"{ADMIN_PREFIX}/rate_limits")
    def get_rate_limits() -> dict[str, Any]:
        return sim.limiter.limits.to_dict()

    @app.patch(f"{ADMIN_PREFIX}/rate_limits")
    async def patch_rate_limits(request: Request) -> Response:
        try:
            sim.limiter.limits.update(await _json(request))
        except (KeyError, TypeError, ValueError) as exc:
            return _refused(exc)
        sim.limiter.reset()
        return JSONResponse(sim.limiter.limits.to_dict())

    @app.get(f"{ADMIN_PREFIX}/channels")
    def channels() -> dict[str, str]:
        return {c["name"]: c["id"] for c in sim.workspace.channels.values()}

    @app.post(f"{ADMIN_PREFIX}/tokens")
    async def add_token(request: Request) -> Response:
        try:
            data = await _json(request)
            scopes = set(data.get("scopes", []))
            sim.grant_token(str(data["token"]), scopes, as_bot=bool(data.get("as_bot", True)))
        except (KeyError, ValueError) as exc:
            return _refused(exc)
        return JSONResponse({"ok": True})

    @app.post(f"{ADMIN_PREFIX}/tokens/{{token}}/revoke")
    def revoke(token: str) -> Response:
        if token not in sim.tokens:
            return JSONResponse({"ok": False, "error": "invalid_auth"}, status_code=404)
        sim.revoke_token(token)
        return JSONResponse({"ok": True})

    @app.post(f"{ADMIN_PREFIX}/messages")
    async def post(request: Request) -> Response:
        try:
            data = await _json(request)
            message = sim.post_message(str(data["channel"]), str(data["text"]), user=data.get("user"),
                                       thread_ts=data.get("thread_ts"), broadcast=bool(data.get("broadcast")))
        except (KeyError, ValueError, SlackError, InvalidTs) as exc:
            return _refused(exc)
        return _message(message)

    @app.patch(f"{ADMIN_PREFIX}/messages/{{channel}}/{{ts}}")
    async def edit(channel: str, ts: str, request: Request) -> Response:
        try:
            data = await _json(request)
            message = sim.edit_message(channel, ts, str(data["text"]), user=data.get("user"))
        except (KeyError, ValueError, SlackError, InvalidTs) as exc:
            return _refused(exc)
        return _message(message)

    @app.delete(f"{ADMIN_PREFIX}/messages/{{channel}}/{{ts}}")
    def delete(channel: str, ts: str) -> Response:
        try:
            sim.delete_message(channel, ts)
        except (SlackError, InvalidTs) as exc:
            return _refused(exc)
        return JSONResponse({"ok": True})

    @app.post(f"{ADMIN_PREFIX}/reactions")
    async def react(request: Request) -> Response:
        return await _reaction(request, remove=False)

    @app.delete(f"{ADMIN_PREFIX}/reactions")
    async def unreact(request: Request) -> Response:
        return await _reaction(request, remove=True)

    async def _reaction(request: Request, remove: bool) -> Response:
        try:
            data = await _json(request)
            change = sim.remove_reaction if remove else sim.add_reaction
            message = change(str(data["channel"]), str(data["ts"]), str(data["name"]), user=data.get("user"))
        except (KeyError, ValueError, SlackError, InvalidTs) as exc:
            return _refused(exc)
        return _message(message)

    def _message(message: dict[str, Any]) -> Response:
        with sim.lock:
            return Response(json.dumps({"ok": True, "message": message}), media_type="application/json")
