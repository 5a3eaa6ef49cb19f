"""Web API method handlers: ``(simulator, caller, args) -> response dict``, run under the simulator lock.

Limits follow the method reference: ``conversations.history`` pages up to 999
(default 100), ``conversations.replies`` up to 1000 (default 1000),
``conversations.list`` under 1000 (``invalid_limit`` otherwise, default 100),
``users.list`` returns everyone unless ``limit`` is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.sandbox.slack.timestamps import InvalidTs, decode_cursor, encode_cursor, parse_ts, ts_str
from app.sandbox.slack.tokens import TokenGrant
from app.sandbox.slack.workspace import HistoryPage, SlackError

if TYPE_CHECKING:
    from app.sandbox.slack.simulator import SlackSimulator

__all__ = ["METHODS", "Args", "Caller"]


@dataclass(frozen=True)
class Caller:
    token: str
    grant: TokenGrant


class Args:
    """The merged query, form and JSON arguments of one call."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) \
            else str(value)

    def required(self, name: str, error: str) -> str:
        value = self.text(name)
        if not value:
            raise SlackError(error)
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name, False)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true", "yes"}

    def number(self, name: str, default: int) -> int:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return int(float(str(value)))
        except ValueError as exc:
            raise SlackError("invalid_limit") from exc

    def ts(self, name: str, error: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return parse_ts(str(value))
        except InvalidTs as exc:
            raise SlackError(error) from exc

    def json_object(self, name: str, error: str) -> Any:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise SlackError(error) from exc
        return value


Handler = Callable[["SlackSimulator", Caller, Args], dict[str, Any]]


def _cursor_ts(args: Args) -> int | None:
    cursor = args.text("cursor")
    if not cursor:
        return None
    try:
        return parse_ts(decode_cursor(cursor, "next_ts"))
    except (ValueError, InvalidTs) as exc:
        raise SlackError("invalid_cursor") from exc


def _page_metadata(page: HistoryPage) -> dict[str, Any]:
    if page.next_ts is None:
        return {}
    return {"response_metadata": {"next_cursor": encode_cursor("next_ts", ts_str(page.next_ts))}}


def auth_test(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    ws = sim.workspace
    user = ws.users.get(caller.grant.user_id, {})
    out: dict[str, Any] = {"url": f"https://{ws.domain}.slack.com/", "team": ws.team_name,
                           "user": user.get("name", ""), "team_id": ws.team_id,
                           "user_id": caller.grant.user_id, "is_enterprise_install": False}
    if caller.grant.bot_id:
        out.update({"bot_id": caller.grant.bot_id, "app_id": ws.app_id, "app_name": "Passerelle"})
    return out


def conversations_list(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    limit = args.number("limit", 100)
    if limit >= 1000 or limit < 0:
        raise SlackError("invalid_limit")
    types = {t.strip() for t in args.text("types", "public_channel").split(",") if t.strip()}
    if not types <= {"public_channel", "private_channel", "mpim", "im"}:
        raise SlackError("invalid_types")
    start = ""
    if args.text("cursor"):
        try:
            start = decode_cursor(args.text("cursor"), "team")
        except ValueError as exc:
            raise SlackError("invalid_cursor") from exc
    channels = sorted(
        (c for c in sim.workspace.channels.values()
         if "public_channel" in types and not (args.flag("exclude_archived") and c["is_archived"])),
        key=lambda c: str(c["id"]),
    )
    channels = [c for c in channels if c["id"] >= start]
    limit = limit or 100
    page, rest = channels[:limit], channels[limit:]
    next_cursor = encode_cursor("team", rest[0]["id"]) if rest else ""
    return {"channels": page, "response_metadata": {"next_cursor": next_cursor}}


def conversations_info(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    return {"channel": sim.workspace.channel(args.required("channel", "channel_not_found"))}


def conversations_history(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel = args.required("channel", "channel_not_found")
    oldest = args.ts("oldest", "invalid_ts_oldest", 0) or 0
    latest = args.ts("latest", "invalid_ts_latest")
    limit = min(max(args.number("limit", 100), 1), 999)
    page = sim.workspace.history(channel, oldest=oldest, latest=latest, inclusive=args.flag("inclusive"),
                                 limit=limit, cursor_ts=_cursor_ts(args))
    out: dict[str, Any] = {"messages": page.messages, "has_more": page.has_more, "pin_count": 0,
                           "channel_actions_ts": None, "channel_actions_count": 0}
    for bound in ("oldest", "latest"):
        if args.text(bound):
            out[bound] = args.text(bound)
    out.update(_page_metadata(page))
    return out


def conversations_replies(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel = args.required("channel", "channel_not_found")
    ts = args.ts("ts", "thread_not_found")
    if ts is None:
        raise SlackError("thread_not_found")
    limit = min(max(args.number("limit", 1000), 1), 1000)
    page = sim.workspace.replies(channel, ts, oldest=args.ts("oldest", "invalid_ts_oldest", 0) or 0,
                                 latest=args.ts("latest", "invalid_ts_latest"),
                                 inclusive=args.flag("inclusive"), limit=limit, cursor_ts=_cursor_ts(args))
    return {"messages": page.messages, "has_more": page.has_more, **_page_metadata(page)}


def _public_user(user: dict[str, Any], grant: TokenGrant) -> dict[str, Any]:
    if "users:read.email" in grant.scopes or "email" not in user.get("profile", {}):
        return user
    profile = {k: v for k, v in user["profile"].items() if k != "email"}
    return {**user, "profile": profile}


def users_list(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    limit = args.number("limit", 0)
    start = ""
    if args.text("cursor"):
        try:
            start = decode_cursor(args.text("cursor"), "user")
        except ValueError as exc:
            raise SlackError("invalid_cursor") from exc
    users = [u for u in sorted(sim.workspace.users.values(), key=lambda u: str(u["id"])) if u["id"] >= start]
    page, rest = (users[:limit], users[limit:]) if limit > 0 else (users, [])
    return {"members": [_public_user(u, caller.grant) for u in page], "cache_ts": int(sim.workspace.clock()),
            "response_metadata": {"next_cursor": encode_cursor("user", rest[0]["id"]) if rest else ""}}


def users_info(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    user = sim.workspace.users.get(args.required("user", "user_not_found"))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": _public_user(user, caller.grant)}


def _metadata(args: Args) -> dict[str, Any] | None:
    metadata = args.json_object("metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    if metadata and not (isinstance(metadata.get("event_type"), str)
                         and isinstance(metadata.get("event_payload"), dict)):
        raise SlackError("invalid_metadata_schema")
    return metadata


def chat_post_message(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel = args.required("channel", "channel_not_found")
    text = args.text("text") or args.text("markdown_text")
    blocks = args.json_object("blocks", "invalid_blocks_format")
    if not text and not blocks:
        raise SlackError("no_text")
    thread_ts = args.ts("thread_ts", "thread_not_found")
    message = sim.post_as(caller.grant, channel, text, thread_ts=thread_ts,
                          broadcast=args.flag("reply_broadcast"), metadata=_metadata(args), blocks=blocks)
    cid = sim.workspace.channel(channel)["id"]
    return {"channel": cid, "ts": message["ts"], "message": message}


def chat_update(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel = args.required("channel", "channel_not_found")
    ts = args.ts("ts", "message_not_found")
    if ts is None:
        raise SlackError("message_not_found")
    text = args.text("text") or args.text("markdown_text")
    if not text and "blocks" not in args.values:
        raise SlackError("no_text")
    existing = sim.workspace.message(channel, ts)
    if existing.get("user") != caller.grant.user_id:
        raise SlackError("cant_update_message")
    message = sim.edit_message(channel, ts, text, user=caller.grant.user_id, metadata=_metadata(args))
    cid = sim.workspace.channel(channel)["id"]
    return {"channel": cid, "ts": message["ts"], "text": message["text"], "message": message}


def chat_delete(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel = args.required("channel", "channel_not_found")
    ts = args.ts("ts", "message_not_found")
    if ts is None:
        raise SlackError("message_not_found")
    if sim.workspace.message(channel, ts).get("user") != caller.grant.user_id:
        raise SlackError("cant_delete_message")
    sim.delete_message(channel, ts)
    return {"channel": sim.workspace.channel(channel)["id"], "ts": args.text("ts")}


def _reaction_target(args: Args) -> tuple[str, int, str]:
    channel = args.text("channel")
    ts = args.ts("timestamp", "bad_timestamp")
    if not channel or ts is None:
        raise SlackError("no_item_specified")
    return channel, ts, args.text("name").strip(":")


def reactions_add(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel, ts, name = _reaction_target(args)
    if not name:
        raise SlackError("invalid_name")
    sim.add_reaction(channel, ts, name, user=caller.grant.user_id)
    return {}


def reactions_remove(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel, ts, name = _reaction_target(args)
    sim.remove_reaction(channel, ts, name, user=caller.grant.user_id)
    return {}


def reactions_get(sim: SlackSimulator, caller: Caller, args: Args) -> dict[str, Any]:
    channel = args.text("channel")
    ts = args.ts("timestamp", "bad_timestamp")
    if not channel or ts is None:
        raise SlackError("no_item_specified")
    cid = sim.workspace.channel(channel)["id"]
    return {"type": "message", "channel": cid, "message": sim.workspace.message(cid, ts)}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "conversations.list": conversations_list,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.list": users_list,
    "users.info": users_info,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "reactions.get": reactions_get,
}
