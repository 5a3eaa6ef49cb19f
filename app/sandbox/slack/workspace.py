"""The state of one simulated Slack workspace: users, channels, messages, threads, reactions.

Messages are stored as the JSON Slack returns. Per channel, the top-level messages
(including thread replies broadcast to the channel) are kept in a list of integer
timestamps sorted ascending, so a history page is a bisect plus a slice: listing costs
O(page size), whatever the channel holds. Thread replies live in a per-thread sorted
list and never appear in the channel's history, as in Slack.

Every mutation returns what changed, so the caller can emit the matching event.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.sandbox.slack.timestamps import ts_str

__all__ = ["HistoryPage", "SlackError", "Workspace"]

Message = dict[str, Any]


class SlackError(Exception):
    """An API error answered as ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class HistoryPage:
    messages: list[Message]
    has_more: bool
    next_ts: int | None = None


@dataclass
class Workspace:
    team_id: str
    team_name: str
    domain: str
    app_id: str
    bot_id: str
    bot_user_id: str
    clock: Callable[[], float] = field(default=time.time)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[int, Message]] = field(default_factory=dict)
    top: dict[str, list[int]] = field(default_factory=dict)
    threads: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    _last_ts: dict[str, int] = field(default_factory=dict)

    # --- building ---------------------------------------------------------------------------
    def add_channel(self, channel: dict[str, Any]) -> None:
        cid = channel["id"]
        self.channels[cid] = channel
        self.messages.setdefault(cid, {})
        self.top.setdefault(cid, [])
        self.threads.setdefault(cid, {})

    def channel(self, channel_id: str) -> dict[str, Any]:
        found = self.channels.get(channel_id)
        if found is None:
            # Slack also accepts a channel name in chat.postMessage; resolve it like Slack does.
            found = next((c for c in self.channels.values() if c["name"] == channel_id.lstrip("#")), None)
        if found is None:
            raise SlackError("channel_not_found")
        return found

    def next_ts(self, channel_id: str, at: float | None = None) -> int:
        """A fresh ts for the channel: now (or ``at``), and past every ts it already holds.

        Slack's ts grow monotonically within a channel; a reader that resumes from the
        last ts it saw relies on that.
        """
        micros = int((self.clock() if at is None else at) * 1_000_000)
        existing = self.messages[channel_id]
        if at is None:
            micros = max(micros, self._last_ts.get(channel_id, 0) + 1)
        while micros in existing:
            micros += 1
        self._last_ts[channel_id] = max(self._last_ts.get(channel_id, 0), micros)
        return micros

    # --- reading ----------------------------------------------------------------------------
    def message(self, channel_id: str, ts: int) -> Message:
        found = self.messages[self.channel(channel_id)["id"]].get(ts)
        if found is None:
            raise SlackError("message_not_found")
        return found

    def history(self, channel_id: str, *, oldest: int, latest: int | None, inclusive: bool, limit: int,
                cursor_ts: int | None) -> HistoryPage:
        """Top-level messages newest first, ``oldest < ts < latest`` (bounds included if ``inclusive``)."""
        cid = self.channel(channel_id)["id"]
        top = self.top[cid]
        lo = bisect.bisect_left(top, oldest) if inclusive else bisect.bisect_right(top, oldest)
        if latest is None:
            hi = len(top)
        else:
            hi = bisect.bisect_right(top, latest) if inclusive else bisect.bisect_left(top, latest)
        if cursor_ts is not None:
            hi = min(hi, bisect.bisect_right(top, cursor_ts))
        start = max(lo, hi - limit)
        stored = self.messages[cid]
        page = [stored[ts] for ts in reversed(top[start:hi])]
        has_more = start > lo
        return HistoryPage(page, has_more, top[start - 1] if has_more else None)

    def replies(self, channel_id: str, ts: int, *, oldest: int, latest: int | None, inclusive: bool,
                limit: int, cursor_ts: int | None) -> HistoryPage:
        """A thread oldest first: the parent (first page only), then replies within the bounds."""
        cid = self.channel(channel_id)["id"]
        stored = self.messages[cid]
        found = stored.get(ts)
        if found is None:
            raise SlackError("thread_not_found")
        parent_ts = _ts_int(found.get("thread_ts")) or ts
        parent = stored.get(parent_ts)
        if parent is None:
            raise SlackError("thread_not_found")
        thread = self.threads[cid].get(parent_ts, [])
        lo = bisect.bisect_left(thread, oldest) if inclusive else bisect.bisect_right(thread, oldest)
        if latest is None:
            hi = len(thread)
        else:
            hi = bisect.bisect_right(thread, latest) if inclusive else bisect.bisect_left(thread, latest)
        page: list[Message] = []
        if cursor_ts is None:
            page.append(parent)
        else:
            lo = max(lo, bisect.bisect_left(thread, cursor_ts))
        room = max(1, limit - len(page))
        end = min(hi, lo + room)
        page.extend(stored[r] for r in thread[lo:end])
        has_more = end < hi
        return HistoryPage(page, has_more, thread[end] if has_more else None)

    # --- writing ----------------------------------------------------------------------------
    def post(self, channel_id: str, author: Message, text: str, *, thread_ts: int | None = None,
             broadcast: bool = False, metadata: dict[str, Any] | None = None,
             at: float | None = None) -> Message:
        """Post a message (``author`` holds ``user`` and, for an app, ``bot_id``/``app_id``)."""
        cid = self.channel(channel_id)["id"]
        stored = self.messages[cid]
        ts = self.next_ts(cid, at)
        message: Message = {"type": "message", **author, "text": text, "ts": ts_str(ts), "team": self.team_id}
        if metadata:
            message["metadata"] = metadata
        if thread_ts is None:
            stored[ts] = message
            bisect.insort(self.top[cid], ts)
            return message
        parent = stored.get(thread_ts)
        if parent is None:
            raise SlackError("thread_not_found")
        if parent.get("thread_ts") and parent["thread_ts"] != parent["ts"]:
            # A reply's ts names its thread: Slack threads onto the parent.
            thread_ts = _ts_int(parent["thread_ts"]) or thread_ts
            parent = stored[thread_ts]
        message["thread_ts"] = parent["ts"]
        message["parent_user_id"] = parent.get("user", "")
        if broadcast:
            message["subtype"] = "thread_broadcast"
            bisect.insort(self.top[cid], ts)
        stored[ts] = message
        bisect.insort(self.threads[cid].setdefault(thread_ts, []), ts)
        self._summarise_thread(cid, thread_ts)
        return message

    def update(self, channel_id: str, ts: int, text: str, editor: str,
               metadata: dict[str, Any] | None = None, *, at: float | None = None) -> Message:
        message = self.message(channel_id, ts)
        if message.get("subtype") == "tombstone":
            raise SlackError("cant_update_message")
        message["text"] = text
        edited_ts = self.clock() if at is None else at
        message["edited"] = {"user": editor, "ts": ts_str(int(edited_ts * 1_000_000))}
        if metadata is not None:
            if metadata:
                message["metadata"] = metadata
            else:
                message.pop("metadata", None)
        return message

    def delete(self, channel_id: str, ts: int) -> tuple[Message, Message | None]:
        """Delete a message; returns (the deleted message, the thread parent if it changed).

        A parent with live replies stays as Slack's ``tombstone`` placeholder; a
        tombstone whose last reply goes is removed too.
        """
        cid = self.channel(channel_id)["id"]
        stored = self.messages[cid]
        message = stored.get(ts)
        if message is None:
            raise SlackError("message_not_found")
        thread_ts = _ts_int(message.get("thread_ts"))
        is_reply = thread_ts is not None and thread_ts != ts
        if not is_reply and self.threads[cid].get(ts):
            deleted = dict(message)
            for key in ("text", "user", "bot_id", "app_id", "edited", "reactions", "metadata", "subtype"):
                message.pop(key, None)
            message.update({"subtype": "tombstone", "text": "This message was deleted.", "user": "USLACKBOT",
                            "hidden": True})
            return deleted, None
        del stored[ts]
        _remove_sorted(self.top[cid], ts)
        parent: Message | None = None
        if is_reply and thread_ts is not None:
            thread = self.threads[cid].get(thread_ts, [])
            _remove_sorted(thread, ts)
            parent = stored.get(thread_ts)
            if not thread:
                self.threads[cid].pop(thread_ts, None)
                if parent is not None and parent.get("subtype") == "tombstone":
                    del stored[thread_ts]
                    _remove_sorted(self.top[cid], thread_ts)
                    parent = None
            self._summarise_thread(cid, thread_ts)
        return message, parent

    def react(self, channel_id: str, ts: int, name: str, user: str) -> Message:
        message = self.message(channel_id, ts)
        reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if user in entry["users"]:
            raise SlackError("already_reacted")
        entry["users"].append(user)
        entry["count"] += 1
        return message

    def unreact(self, channel_id: str, ts: int, name: str, user: str) -> Message:
        message = self.message(channel_id, ts)
        reactions: list[dict[str, Any]] = message.get("reactions", [])
        entry = next((r for r in reactions if r["name"] == name and user in r["users"]), None)
        if entry is None:
            raise SlackError("no_reaction")
        entry["users"].remove(user)
        entry["count"] -= 1
        if entry["count"] == 0:
            reactions.remove(entry)
        if not reactions:
            message.pop("reactions", None)
        return message

    # --- internals --------------------------------------------------------------------------
    def _summarise_thread(self, cid: str, thread_ts: int) -> None:
        """Keep the parent's reply_count / latest_reply / reply_users in step with its thread."""
        parent = self.messages[cid].get(thread_ts)
        if parent is None:
            return
        thread = self.threads[cid].get(thread_ts, [])
        if not thread:
            for key in ("thread_ts", "reply_count", "reply_users_count", "latest_reply", "reply_users",
                        "is_locked", "subscribed"):
                parent.pop(key, None)
            return
        stored = self.messages[cid]
        users: list[str] = []
        for reply_ts in thread:
            user = stored[reply_ts].get("user")
            if user and user not in users:
                users.append(user)
        parent.update({"thread_ts": parent["ts"], "reply_count": len(thread), "reply_users_count": len(users),
                       "latest_reply": ts_str(thread[-1]), "reply_users": users[:5], "is_locked": False,
                       "subscribed": False})


def _ts_int(value: Any) -> int | None:
    if not value:
        return None
    seconds, _, fraction = str(value).partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _remove_sorted(values: list[int], item: int) -> None:
    index = bisect.bisect_left(values, item)
    if index < len(values) and values[index] == item:
        del values[index]
