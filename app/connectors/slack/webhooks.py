"""Slack Events API deliveries: verify the signature on the raw bytes, then turn events into hints.

Verification (Slack's scheme): ``X-Slack-Signature`` must equal ``v0=`` + hex
HMAC-SHA256(signing secret, ``v0:{X-Slack-Request-Timestamp}:{body}``), compared in
constant time, and the timestamp must be within 5 minutes of our clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from app.connectors.base import WebhookHint
from app.connectors.slack.mapping import external_id
from app.errors import WebhookRejected

__all__ = ["REPLAY_WINDOW_S", "SlackWebhooks"]

REPLAY_WINDOW_S = 300

# Message subtypes that are ordinary posts (anything new in a channel or a thread).
_POSTED = {None, "thread_broadcast", "bot_message", "me_message", "file_share"}


def _header(headers: Mapping[str, str], lower_name: str) -> str | None:
    # The intake's headers are keyed lower-case: one lookup, no copy of them all (hot path).
    found = headers.get(lower_name)
    if found is not None:
        return found
    return next((v for k, v in headers.items() if k.lower() == lower_name), None)


class SlackWebhooks:
    def __init__(self, connector: str, signing_secret: str | None,
                 clock: Callable[[], float] = time.time) -> None:
        self._connector = connector
        self._secret = signing_secret
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        if not self._secret:
            raise WebhookRejected("no signing secret is configured for this Slack connector", 401)
        timestamp = _header(headers, "x-slack-request-timestamp")
        signature = _header(headers, "x-slack-signature")
        if not timestamp or not signature:
            raise WebhookRejected("missing X-Slack-Request-Timestamp or X-Slack-Signature", 401)
        try:
            sent = int(timestamp)
        except ValueError as exc:
            raise WebhookRejected("X-Slack-Request-Timestamp is not a number", 401) from exc
        if abs(self._clock() - sent) > REPLAY_WINDOW_S:
            raise WebhookRejected("X-Slack-Request-Timestamp is more than 5 minutes off", 401)
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._secret.encode(), base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise WebhookRejected("X-Slack-Signature does not match", 401)

    def parse(self, headers: Mapping[str, str], body: bytes) -> list[WebhookHint]:
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise WebhookRejected("body is not JSON", 400) from exc
        if not isinstance(payload, dict):
            raise WebhookRejected("body is not a JSON object", 400)
        kind = payload.get("type")
        if kind == "url_verification":
            return [WebhookHint(self._connector, "messages", answer=str(payload.get("challenge", "")))]
        if kind != "event_callback" or not isinstance(payload.get("event"), dict):
            return []
        delivery = str(payload.get("event_id") or "") or None
        return self._hints(payload["event"], delivery)

    def _hints(self, event: dict[str, Any], delivery: str | None) -> list[WebhookHint]:
        kind = event.get("type")
        if kind == "message":
            return self._message_hints(event, delivery)
        if kind in ("reaction_added", "reaction_removed"):
            item = event.get("item") or {}
            if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
                return []
            target = external_id(item["channel"], item["ts"])
            return [WebhookHint(self._connector, "messages", item["channel"], external_ids=(target,),
                                delivery_id=delivery)]
        if kind in ("user_change", "team_join"):
            user = (event.get("user") or {}).get("id")
            return [WebhookHint(self._connector, "users", "", external_ids=(str(user),) if user else (),
                                delivery_id=delivery)]
        return []

    def _message_hints(self, event: dict[str, Any], delivery: str | None) -> list[WebhookHint]:
        channel = event.get("channel")
        if not channel:
            return []
        subtype = event.get("subtype")
        ids: list[str] = []
        deleted: list[str] = []
        if subtype == "message_changed":
            message = event.get("message") or {}
            if message.get("ts"):
                ids.append(external_id(channel, message["ts"]))
        elif subtype == "message_deleted":
            if event.get("deleted_ts"):
                deleted.append(external_id(channel, event["deleted_ts"]))
            if event.get("thread_ts"):
                ids.append(external_id(channel, event["thread_ts"]))  # the parent's reply count changed
        elif subtype in _POSTED and event.get("ts"):
            ids.append(external_id(channel, event["ts"]))
            if event.get("thread_ts") and event["thread_ts"] != event["ts"]:
                ids.append(external_id(channel, event["thread_ts"]))
        else:
            return [WebhookHint(self._connector, "messages", channel, delivery_id=delivery)]
        return [WebhookHint(self._connector, "messages", channel, external_ids=tuple(ids),
                            deleted_ids=tuple(deleted), delivery_id=delivery)]
