"""The Slack simulator: Web API under ``/api/<method>``, Events API delivery, ``/_sandbox`` admin.

Direct methods (``post_message``, ``edit_message``, ``delete_message``, ``add_reaction``,
``remove_reaction``) change the workspace as a user would and fire the matching
events; the API handlers and the admin routes go through them too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse

from app.sandbox.common.simulator import Simulator
from app.sandbox.slack import event_payloads
from app.sandbox.slack.events import EventsApi
from app.sandbox.slack.ratelimits import RateLimiter, RateLimits
from app.sandbox.slack.seed import seed_workspace
from app.sandbox.slack.timestamps import parse_ts
from app.sandbox.slack.tokens import BOT_SCOPES, DEFAULT_BOT_TOKEN, TokenGrant
from app.sandbox.slack.workspace import Workspace
from app.sandbox.world import TeamWorld

__all__ = ["SlackSimulator"]

Message = dict[str, Any]


class SlackSimulator(Simulator):
    vendor = "slack"

    def __init__(self, world: TeamWorld | None = None, *, rate_limits: RateLimits | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.limiter = RateLimiter(rate_limits or RateLimits())
        self.tokens: dict[str, TokenGrant] = {}
        super().__init__(world)
        self.events = EventsApi(self.webhooks, self.workspace.team_id, self.workspace.app_id, clock=clock)
        from app.sandbox.slack.admin import install_admin_routes
        from app.sandbox.slack.api import install_api_routes

        install_api_routes(self)
        install_admin_routes(self)

    # --- Simulator hooks --------------------------------------------------------------------
    def reset(self) -> None:
        seed = self.world.seed
        ws = Workspace(team_id=f"T0{seed:03d}00001", team_name="Orbit", domain="orbit-team",
                       app_id=f"A0{seed:03d}90000", bot_id=f"B0{seed:03d}90000",
                       bot_user_id=f"U0{seed:03d}90000", clock=self.clock)
        seed_workspace(self.world, ws)
        self.workspace = ws
        self.tokens = {DEFAULT_BOT_TOKEN: TokenGrant(ws.bot_user_id, BOT_SCOPES, bot_id=ws.bot_id)}
        self.limiter.reset()
        if hasattr(self, "events"):
            self.events.clear()

    def error_body(self, status: int, message: str) -> Response:
        if status == 429:
            return JSONResponse({"ok": False, "error": "ratelimited"}, status_code=429)
        if status == 404:
            return JSONResponse({"ok": False, "error": "unknown_method", "detail": message}, status_code=404)
        return JSONResponse({"ok": False, "error": "internal_error", "detail": message}, status_code=status)

    def unauthenticated(self) -> Response:
        # Slack answers auth failures with HTTP 200 and ok=false; an expired rotating token says so.
        return JSONResponse({"ok": False, "error": "token_expired"}, status_code=200)

    # --- tokens -----------------------------------------------------------------------------
    def grant_token(self, token: str, scopes: frozenset[str] | set[str] = BOT_SCOPES, *,
                    as_bot: bool = True) -> None:
        ws = self.workspace
        user = ws.bot_user_id if as_bot else self.world.members[0].slack_user_id
        self.tokens[token] = TokenGrant(user, frozenset(scopes), bot_id=ws.bot_id if as_bot else None)

    def revoke_token(self, token: str = DEFAULT_BOT_TOKEN) -> None:
        self.tokens[token].revoked = True

    # --- lookups ----------------------------------------------------------------------------
    def channel_id(self, name: str) -> str:
        return str(self.workspace.channel(name)["id"])

    def user_id(self, who: str | None) -> str:
        """A cast member's key (``po``, ``dev1``), a user id, or ``None`` for the product owner."""
        if who is None:
            return self.world.members[0].slack_user_id
        if who in self.workspace.users:
            return who
        return self.world.member(who).slack_user_id

    # --- mutations (fire events) ------------------------------------------------------------
    def post_as(self, grant: TokenGrant, channel: str, text: str, *, thread_ts: int | None = None,
                broadcast: bool = False, metadata: dict[str, Any] | None = None,
                blocks: Any = None) -> Message:
        ws = self.workspace
        author: dict[str, Any] = {"user": grant.user_id}
        if grant.bot_id:
            author.update({"bot_id": grant.bot_id, "app_id": ws.app_id,
                           "bot_profile": {"id": grant.bot_id, "app_id": ws.app_id, "name": "Passerelle",
                                           "deleted": False, "team_id": ws.team_id, "updated": 1_700_000_000,
                                           "icons": {f"image_{n}": f"https://avatars.example/passerelle-{n}.png"
                                                     for n in (36, 48, 72)}}})
        with self.lock:
            message = ws.post(channel, author, text, thread_ts=thread_ts, broadcast=broadcast,
                              metadata=metadata)
            if blocks:
                message["blocks"] = blocks
            cid = ws.channel(channel)["id"]
            self.events.emit(event_payloads.message_posted(cid, message))
            return message

    def post_message(self, channel: str, text: str, *, user: str | None = None, thread_ts: str | None = None,
                     broadcast: bool = False) -> Message:
        grant = TokenGrant(self.user_id(user), frozenset())
        return self.post_as(grant, channel, text, thread_ts=parse_ts(thread_ts) if thread_ts else None,
                            broadcast=broadcast)

    def edit_message(self, channel: str, ts: str | int, text: str, *, user: str | None = None,
                     metadata: dict[str, Any] | None = None) -> Message:
        ws = self.workspace
        key = ts if isinstance(ts, int) else parse_ts(ts)
        with self.lock:
            previous = dict(ws.message(channel, key))
            message = ws.update(channel, key, text, self.user_id(user), metadata)
            cid = ws.channel(channel)["id"]
            self.events.emit(event_payloads.message_changed(cid, message, previous, f"{self.clock():.6f}"))
            return message

    def delete_message(self, channel: str, ts: str | int) -> Message:
        ws = self.workspace
        key = ts if isinstance(ts, int) else parse_ts(ts)
        with self.lock:
            deleted, _ = ws.delete(channel, key)
            cid = ws.channel(channel)["id"]
            now = f"{self.clock():.6f}"
            remaining = ws.messages[cid].get(key)
            if remaining is not None:
                # A parent with replies stays as a tombstone: Slack reports that as a change.
                self.events.emit(event_payloads.message_changed(cid, remaining, deleted, now))
            else:
                self.events.emit(event_payloads.message_deleted(cid, deleted, now))
            return deleted

    def add_reaction(self, channel: str, ts: str | int, name: str, *, user: str | None = None) -> Message:
        return self._reaction("reaction_added", channel, ts, name, user)

    def remove_reaction(self, channel: str, ts: str | int, name: str, *, user: str | None = None) -> Message:
        return self._reaction("reaction_removed", channel, ts, name, user)

    def _reaction(self, kind: str, channel: str, ts: str | int, name: str, user: str | None) -> Message:
        ws = self.workspace
        key = ts if isinstance(ts, int) else parse_ts(ts)
        who = self.user_id(user)
        with self.lock:
            change = ws.react if kind == "reaction_added" else ws.unreact
            message = change(channel, key, name, who)
            cid = ws.channel(channel)["id"]
            now = f"{self.clock():.6f}"
            self.events.emit(event_payloads.reaction_changed(kind, cid, message, who, name, now))
            return message


