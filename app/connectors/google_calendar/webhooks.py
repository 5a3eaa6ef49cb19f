"""Push notifications of Google Calendar: verify a delivery came on a channel we opened, and what it asks.

A notification has no body; the ``X-Goog-*`` headers carry everything. It is authentic when
``X-Goog-Channel-ID`` names a channel this connector opened (or was told to remember after a
restart) and ``X-Goog-Channel-Token`` equals that channel's token (compared in constant
time). ``sync`` only confirms a new channel: no work. Any other state asks for a sync of the
channel's calendar from its cursor; the delivery id is ``<channel id>:<message number>``.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from datetime import datetime

from app.connectors.base import WebhookHint
from app.errors import WebhookRejected

__all__ = ["Channel", "ChannelRegistry", "ChannelWebhooks"]

_STATES = frozenset({"sync", "exists", "not_exists"})


@dataclass(frozen=True)
class Channel:
    """A push channel this connector opened with ``events.watch``."""

    id: str
    calendar: str
    token: str
    resource_id: str
    expiration: datetime | None = None


class ChannelRegistry:
    """The channels we issued, by id; thread-safe."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}
        self._lock = threading.Lock()

    def add(self, channel: Channel) -> None:
        with self._lock:
            self._channels[channel.id] = channel

    def get(self, channel_id: str) -> Channel | None:
        with self._lock:
            return self._channels.get(channel_id)

    def remove(self, channel_id: str) -> Channel | None:
        with self._lock:
            return self._channels.pop(channel_id, None)

    def all(self) -> list[Channel]:
        with self._lock:
            return list(self._channels.values())


class ChannelWebhooks:
    """The webhook receiver half of the connector (``verify`` then ``parse``)."""

    def __init__(self, connector: str, registry: ChannelRegistry, stream: str = "events") -> None:
        self._connector = connector
        self._registry = registry
        self._stream = stream

    def _checked(self, headers: dict[str, str]) -> tuple[Channel, str, int]:
        h = {k.lower(): v for k, v in headers.items()}
        channel_id = h.get("x-goog-channel-id")
        if not channel_id:
            raise WebhookRejected("missing X-Goog-Channel-ID", 400)
        channel = self._registry.get(channel_id)
        if channel is None:
            raise WebhookRejected(f"unknown channel {channel_id!r}", 401)
        token = h.get("x-goog-channel-token")
        if token is None:
            raise WebhookRejected("missing X-Goog-Channel-Token", 401)
        if not hmac.compare_digest(token.encode(), channel.token.encode()):
            raise WebhookRejected("X-Goog-Channel-Token does not match the channel", 401)
        state = h.get("x-goog-resource-state", "")
        if state not in _STATES:
            raise WebhookRejected(f"unexpected X-Goog-Resource-State {state!r}", 400)
        number = h.get("x-goog-message-number", "")
        if not number.isdigit():
            raise WebhookRejected("missing or malformed X-Goog-Message-Number", 400)
        return channel, state, int(number)

    def verify(self, headers: dict[str, str], body: bytes) -> None:
        self._checked(headers)

    def parse(self, headers: dict[str, str], body: bytes) -> list[WebhookHint]:
        channel, state, number = self._checked(headers)
        if state == "sync":
            return []
        return [
            WebhookHint(
                connector=self._connector,
                stream=self._stream,
                partition=channel.calendar,
                delivery_id=f"{channel.id}:{number}",
            )
        ]
