"""The ``/api/<method>`` route: arguments, authentication, scopes, rate limits, Slack-shaped answers.

As Slack does: any method accepts GET with a query string or POST with a form or a
JSON body; the token comes as ``Authorization: Bearer`` (or a ``token`` argument);
API errors answer HTTP 200 with ``{"ok": false, "error": ...}``; only rate limiting
answers 429 (with ``Retry-After``). Every answer carries ``X-OAuth-Scopes`` (the
token's scopes) and ``X-Accepted-OAuth-Scopes`` (what the method accepts).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fastapi import Request, Response

from app.sandbox.slack.methods import METHODS, Args, Caller
from app.sandbox.slack.tokens import METHOD_SCOPES
from app.sandbox.slack.workspace import SlackError

if TYPE_CHECKING:
    from app.sandbox.slack.simulator import SlackSimulator

__all__ = ["install_api_routes"]


async def _read_args(request: Request) -> dict[str, Any]:
    values: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return values
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" and body:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SlackError("invalid_json") from exc
        if not isinstance(data, dict):
            raise SlackError("invalid_json")
        values.update(data)
    elif body:
        if content_type not in ("", "application/x-www-form-urlencoded"):
            raise SlackError("invalid_form_data")
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return values


def _answer(payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status,
                    media_type="application/json; charset=utf-8", headers=headers)


def install_api_routes(sim: SlackSimulator) -> None:
    @sim.app.api_route("/api/{method}", methods=["GET", "POST"])
    async def call(method: str, request: Request) -> Response:
        handler = METHODS.get(method)
        if handler is None:
            return _answer({"ok": False, "error": "unknown_method",
                            "detail": f"not implemented in the slack sandbox: {method}"}, status=404)
        accepted = METHOD_SCOPES.get(method, ())
        headers = {"X-Accepted-OAuth-Scopes": ",".join(accepted)}
        try:
            args = Args(await _read_args(request))
        except SlackError as exc:
            return _answer({"ok": False, "error": exc.code}, headers=headers)
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else args.text("token")
        if not token:
            return _answer({"ok": False, "error": "not_authed"}, headers=headers)
        grant = sim.tokens.get(token)
        if grant is None:
            return _answer({"ok": False, "error": "invalid_auth"}, headers=headers)
        if grant.revoked:
            return _answer({"ok": False, "error": "token_revoked"}, headers=headers)
        if grant.inactive:
            return _answer({"ok": False, "error": "account_inactive"}, headers=headers)
        headers["X-OAuth-Scopes"] = ",".join(sorted(grant.scopes))
        if accepted and not grant.scopes.intersection(accepted):
            return _answer({"ok": False, "error": "missing_scope", "needed": accepted[0],
                            "provided": ",".join(sorted(grant.scopes))}, headers=headers)
        retry_after = sim.limiter.check(method, args.text("channel"))
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
            return _answer({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        with sim.lock:
            try:
                payload: dict[str, Any] = {"ok": True, **handler(sim, Caller(token, grant), args)}
            except SlackError as exc:
                payload = {"ok": False, "error": exc.code, **exc.extra}
            # Serialise under the lock: the payload holds the live message objects.
            return _answer(payload, headers=headers)
