"""Pure mapping between Slack JSON and the unified model.

A message's external id is ``<channel>:<ts>`` (a ts is unique within its channel).
Slack has no version for a message, so its version is a digest of what can change
(text, edit mark, thread summary, reactions, subtype): any visible change moves it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from app.models import Account, Message, Person, Reaction

__all__ = [
    "ORIGIN_EVENT_TYPE",
    "external_id",
    "is_placeholder",
    "message_version",
    "origin_marker",
    "origin_of",
    "person_version",
    "split_external_id",
    "to_message",
    "to_person",
    "ts_datetime",
    "write_key_of",
]

ORIGIN_EVENT_TYPE = "passerelle_origin"

_MUTABLE = ("text", "edited", "reply_count", "latest_reply", "reactions", "subtype")
_VERSION_KEYS = tuple(sorted(_MUTABLE))
"""The digested keys in the order ``sort_keys`` writes them (the dict is built already sorted)."""
_VERSION_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""``json.dumps(state, sort_keys=True, separators=(",", ":"))`` without a new encoder per message."""


def external_id(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def split_external_id(value: str) -> tuple[str, str]:
    channel, sep, ts = value.partition(":")
    if not sep or not channel or not ts:
        raise ValueError(f"not a slack message id (<channel>:<ts>): {value!r}")
    return channel, ts


def ts_datetime(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def message_version(raw: dict[str, Any]) -> str:
    state = {k: raw.get(k) for k in _VERSION_KEYS}
    digest = hashlib.sha256(_VERSION_JSON.encode(state).encode()).hexdigest()
    return digest[:16]


def is_placeholder(raw: dict[str, Any]) -> bool:
    """Slack keeps a deleted thread parent as ``subtype: tombstone`` while replies remain."""
    return raw.get("subtype") == "tombstone"


def to_message(channel: str, raw: dict[str, Any]) -> Message:
    reactions = tuple(
        Reaction(name=str(r["name"]), count=int(r.get("count", len(r.get("users", [])))),
                 users=tuple(str(u) for u in r.get("users", [])))
        for r in raw.get("reactions", [])
    )
    thread_ts = raw.get("thread_ts")
    return Message(
        channel=channel,
        author=raw.get("user") or raw.get("bot_id"),
        text=str(raw.get("text", "")),
        ts=str(raw["ts"]),
        thread_ts=str(thread_ts) if thread_ts else None,
        reply_count=int(raw.get("reply_count", 0)),
        reactions=reactions,
        edited="edited" in raw,
    )


def origin_marker(origin: str, key: str | None = None) -> dict[str, Any]:
    """Message ``metadata`` (a real chat.postMessage field) naming the hub write that made it, and
    that write's idempotency ``key`` when it has one (what a retried post looks for)."""
    payload = {"origin": origin} if key is None else {"origin": origin, "key": key}
    return {"event_type": ORIGIN_EVENT_TYPE, "event_payload": payload}


def write_key_of(raw: dict[str, Any]) -> str | None:
    """The idempotency key of the hub write that posted ``raw``, if the hub posted it with one."""
    return _marked(raw, "key")


def origin_of(raw: dict[str, Any]) -> str | None:
    return _marked(raw, "origin")


def _marked(raw: dict[str, Any], field: str) -> str | None:
    """``field`` of the hub's origin marker in ``raw``'s metadata; None when the hub did not mark it."""
    metadata = raw.get("metadata") or {}
    if metadata.get("event_type") != ORIGIN_EVENT_TYPE:
        return None
    value = (metadata.get("event_payload") or {}).get(field)
    return str(value) if value else None


def is_person(raw: dict[str, Any]) -> bool:
    """Bots and Slackbot are not people."""
    return not raw.get("is_bot") and raw.get("id") != "USLACKBOT"


def person_version(raw: dict[str, Any]) -> str:
    return str(raw.get("updated", ""))


def to_person(raw: dict[str, Any]) -> Person:
    profile = raw.get("profile") or {}
    email = profile.get("email")
    display = (profile.get("display_name") or profile.get("real_name") or raw.get("real_name")
               or raw.get("name"))
    account = Account(system="slack", account_id=str(raw["id"]), email=email,
                      email_verified=bool(email) and bool(raw.get("is_email_confirmed", True)),
                      display_name=str(display) if display else None)
    return Person(display_name=str(profile.get("real_name") or raw.get("real_name") or display or raw["id"]),
                  emails=(str(email),) if email else (), accounts=(account,))
