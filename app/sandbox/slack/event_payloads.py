"""The inner ``event`` objects Slack sends for message and reaction changes."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["message_changed", "message_deleted", "message_posted", "reaction_changed"]


def _base(channel: str, event_ts: str) -> dict[str, Any]:
    return {"type": "message", "channel": channel, "event_ts": event_ts, "channel_type": "channel"}


def message_posted(channel: str, message: dict[str, Any]) -> dict[str, Any]:
    """A new message or thread reply (``message.channels``): the message itself plus channel fields."""
    event = copy.deepcopy(message)
    event.update({"channel": channel, "event_ts": message["ts"], "channel_type": "channel"})
    return event


def message_changed(channel: str, message: dict[str, Any], previous: dict[str, Any],
                    event_ts: str) -> dict[str, Any]:
    return {**_base(channel, event_ts), "subtype": "message_changed", "hidden": True, "ts": event_ts,
            "message": copy.deepcopy(message), "previous_message": copy.deepcopy(previous)}


def message_deleted(channel: str, previous: dict[str, Any], event_ts: str) -> dict[str, Any]:
    event = {**_base(channel, event_ts), "subtype": "message_deleted", "hidden": True, "ts": event_ts,
             "deleted_ts": previous["ts"], "previous_message": copy.deepcopy(previous)}
    if previous.get("thread_ts") and previous["thread_ts"] != previous["ts"]:
        event["thread_ts"] = previous["thread_ts"]
    return event


def reaction_changed(kind: str, channel: str, message: dict[str, Any], user: str, name: str,
                     event_ts: str) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "user": user, "reaction": name,
                             "item": {"type": "message", "channel": channel, "ts": message["ts"]},
                             "event_ts": event_ts}
    if message.get("user"):
        event["item_user"] = message["user"]
    return event
