"""Push channels (``events.watch`` / ``channels.stop``) and the notifications they carry.

A notification is a POST with no body; everything is in the ``X-Goog-*`` headers. The
first message of a channel is ``sync`` (number 1); every later change of the watched
calendar sends ``exists`` with the next number. Channels end at their expiration.
Google retries 5xx answers with exponential backoff and drops the message on any other
non-2xx answer.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from app.sandbox.common.webhooks import Delivery, WebhookDispatcher
from app.sandbox.google_calendar.errors import GoogleApiError

__all__ = ["Channel", "ChannelHub"]

DEFAULT_TTL_S = 7 * 24 * 3600
MAX_TTL_S = 30 * 24 * 3600


@dataclass
class Channel:
    id: str
    address: str
    calendar_id: str
    resource_id: str
    resource_uri: str
    token: str | None
    expiration_ms: int
    sent: int = 0

    def resource(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "api#channel",
            "id": self.id,
            "resourceId": self.resource_id,
            "resourceUri": self.resource_uri,
            "expiration": str(self.expiration_ms),
        }
        if self.token is not None:
            data["token"] = self.token
        return data


def resource_id_for(calendar_id: str) -> str:
    """Opaque and stable per watched collection, as Google's is."""
    digest = hashlib.sha1(f"events:{calendar_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:27]


class ChannelHub:
    def __init__(
        self,
        dispatcher: WebhookDispatcher,
        clock: Callable[[], float] = time.time,
        retry_delays_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0),
    ) -> None:
        self._dispatcher = dispatcher
        self._clock = clock
        self._retry_delays_s = retry_delays_s
        self.channels: dict[str, Channel] = {}

    def watch(self, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        channel_id = body.get("id")
        address = body.get("address")
        if not channel_id:
            raise GoogleApiError(400, "Required: channel id", "required")
        if body.get("type") not in ("web_hook", "webhook"):
            raise GoogleApiError(400, f"Invalid channel type: {body.get('type')}", "invalid")
        if not address:
            raise GoogleApiError(400, "Required: channel address", "required")
        if channel_id in self.channels:
            raise GoogleApiError(400, f"Channel id {channel_id} not unique", "channelIdNotUnique")
        now_ms = int(self._clock() * 1000)
        expiration = self._expiration(body, now_ms)
        channel = Channel(
            id=str(channel_id),
            address=str(address),
            calendar_id=calendar_id,
            resource_id=resource_id_for(calendar_id),
            resource_uri=f"https://www.googleapis.com/calendar/v3/calendars/{quote(calendar_id)}/events?alt=json",
            token=body.get("token"),
            expiration_ms=expiration,
        )
        self.channels[channel.id] = channel
        self._send(channel, "sync")
        return channel.resource()

    def stop(self, body: dict[str, Any]) -> None:
        channel = self.channels.get(str(body.get("id")))
        if channel is None or channel.resource_id != body.get("resourceId"):
            raise GoogleApiError(
                404, f"Channel '{body.get('id')}' not found for project 'sandbox'", "notFound"
            )
        del self.channels[channel.id]

    def notify(self, calendar_id: str) -> None:
        """A change of ``calendar_id``: tell every live channel watching it; drop expired ones."""
        now_ms = int(self._clock() * 1000)
        for channel in list(self.channels.values()):
            if channel.expiration_ms <= now_ms:
                del self.channels[channel.id]
            elif channel.calendar_id == calendar_id:
                self._send(channel, "exists")

    def _expiration(self, body: dict[str, Any], now_ms: int) -> int:
        ttl_param = (body.get("params") or {}).get("ttl")
        if body.get("expiration") not in (None, ""):
            try:
                wanted = int(body["expiration"])
            except (TypeError, ValueError) as exc:
                raise GoogleApiError(400, "Invalid channel expiration", "invalid") from exc
        elif ttl_param is not None:
            wanted = now_ms + int(ttl_param) * 1000
        else:
            wanted = now_ms + DEFAULT_TTL_S * 1000
        if wanted <= now_ms:
            raise GoogleApiError(400, "Channel expiration is in the past", "invalid")
        return min(wanted, now_ms + MAX_TTL_S * 1000)

    def _send(self, channel: Channel, state: str) -> None:
        channel.sent += 1
        headers = {
            "Content-Type": "application/json; utf-8",
            "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": formatdate(channel.expiration_ms / 1000, usegmt=True),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(channel.sent),
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        self._dispatcher.send(
            Delivery(
                url=channel.address,
                build=lambda attempt: (dict(headers), b""),
                event=f"{channel.id}:{state}",
                retry_delays_s=self._retry_delays_s,
                ok=lambda status: status < 500,
            )
        )
