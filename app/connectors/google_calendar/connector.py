"""The Google Calendar connector: stream ``events`` (kind ``calendar_event``), one partition per calendar.

Cursor: the calendar's ``nextSyncToken``. A full read lists with ``maxResults=2500`` and
``showDeleted`` (no ``singleEvents``: series masters and their exceptions stay separate
records, linked by ``series_id``); an incremental read sends the sync token with the same
parameters. A dead token (410) raises ``CursorInvalidated`` and the engine resyncs that
calendar alone. Cancelled events become tombstones.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from app.connectors.base import (
    Capability,
    Change,
    CheckResult,
    Page,
    Ref,
    StreamSpec,
    WebhookHint,
    WriteResult,
)
from app.connectors.common import RetryPolicy
from app.connectors.google_calendar.client import CALENDAR_SCOPE, CalendarClient, RequestFactory
from app.connectors.google_calendar.mapping import (
    change_from_event,
    event_from_unified,
    external_id,
    split_external_id,
)
from app.connectors.google_calendar.webhooks import Channel, ChannelRegistry, ChannelWebhooks
from app.errors import (
    ConfigError,
    PasserelleError,
    PermissionDenied,
    PreconditionFailed,
    RecordNotFound,
    SkippableRecord,
)
from app.models import AnyBody, DeleteReason, RecordKind, Tombstone
from app.models.calendar import CalendarEvent
from app.settings import GoogleCalendarSettings

__all__ = ["GoogleCalendarConnector", "event_id_for"]

STREAM = "events"
PAGE_SIZE = 2500
_REF_FIELDS = "items(id,etag,status),nextPageToken,nextSyncToken"


def _api(resource: str, method: str, **params: Any) -> RequestFactory:
    """A request factory with its parameters bound now, for a worker thread to build and run later."""

    def factory(resources: Mapping[str, Any]) -> Any:
        return getattr(resources[resource], method)(**params)

    return factory


class GoogleCalendarConnector:
    system = "google_calendar"
    streams: Sequence[StreamSpec] = (StreamSpec(STREAM, RecordKind.CALENDAR_EVENT, partitioned=True),)
    capabilities = frozenset(
        {
            Capability.READ,
            Capability.INCREMENTAL,
            Capability.CENSUS,
            Capability.WRITE,
            Capability.DELETE,
            Capability.WEBHOOKS,
        }
    )

    def __init__(
        self, name: str, settings: GoogleCalendarSettings, *, retry_policy: RetryPolicy | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self.client = CalendarClient(settings, retry_policy=retry_policy)
        self.channels = ChannelRegistry()
        self._webhooks = ChannelWebhooks(name, self.channels, STREAM)

    async def __aenter__(self) -> Self:
        await self.client.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.client.close()

    @property
    def api_calls(self) -> int:
        return self.client.calls

    # --- status -----------------------------------------------------------------------------
    async def check(self) -> CheckResult:
        try:
            await self.client.call(_api("calendarList", "list", maxResults=1), what="calendarList.list")
            for calendar in self.settings.calendars:
                await self.client.call(
                    _api("events", "list", calendarId=calendar, maxResults=1), what=f"events.list {calendar}"
                )
        except PermissionDenied as exc:
            return CheckResult(
                False,
                f"missing scope {CALENDAR_SCOPE} (or calendar.readonly plus "
                f"calendar.events for writes): {exc}",
                (CALENDAR_SCOPE,),
            )
        except RecordNotFound as exc:
            return CheckResult(False, f"a configured calendar is not visible to these credentials: {exc}")
        except PasserelleError as exc:
            return CheckResult(False, f"{type(exc).__name__}: {exc}")
        return CheckResult(True, "calendarList.list answered")

    async def list_partitions(self, stream: str) -> list[str]:
        self._check_stream(stream)
        if self.settings.calendars:
            return list(self.settings.calendars)
        ids: list[str] = []
        token: str | None = None
        while True:
            page = await self.client.call(
                _api("calendarList", "list", pageToken=token, maxResults=250), what="calendarList.list"
            )
            ids.extend(str(item["id"]) for item in page.get("items", []))
            token = page.get("nextPageToken")
            if not token:
                return ids

    # --- reads ------------------------------------------------------------------------------
    async def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        self._check_stream(stream)
        params: dict[str, Any] = {"calendarId": partition, "maxResults": PAGE_SIZE, "showDeleted": True}
        if cursor is not None:
            params["syncToken"] = cursor
        page_token: str | None = None
        while True:
            response = await self.client.call(
                _api("events", "list", **params, pageToken=page_token), what=f"events.list {partition}"
            )
            now = datetime.now(UTC)
            changes = [
                c
                for c in (self._change(partition, item, now) for item in response.get("items", []))
                if c is not None
            ]
            page_token = response.get("nextPageToken")
            cursor_after = None if page_token else response.get("nextSyncToken")
            yield Page(changes, cursor_after=cursor_after, api_calls=1)
            if not page_token:
                return

    @staticmethod
    def _change(calendar: str, item: dict[str, Any], now: datetime) -> Change | None:
        try:
            return change_from_event(calendar, item, now)
        except SkippableRecord:
            # One unmappable event must not stop the calendar; the engine counts what it receives.
            return None

    async def list_refs(self, stream: str, partition: str) -> AsyncIterator[Sequence[Ref]]:
        self._check_stream(stream)
        page_token: str | None = None
        while True:
            response = await self.client.call(
                _api(
                    "events",
                    "list",
                    calendarId=partition,
                    maxResults=PAGE_SIZE,
                    pageToken=page_token,
                    fields=_REF_FIELDS,
                ),
                what=f"events.list {partition} (census)",
            )
            # Cancelled instances of a series are listed even without showDeleted: not live.
            yield [
                Ref(external_id(partition, str(i["id"])), i.get("etag"))
                for i in response.get("items", [])
                if i.get("status") != "cancelled"
            ]
            page_token = response.get("nextPageToken")
            if not page_token:
                return

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        self._check_stream(stream)
        return list(await asyncio.gather(*(self._get_one(i) for i in ids)))

    async def _get_one(self, ext_id: str) -> Change:
        calendar, event_id = self._split(ext_id)
        now = datetime.now(UTC)
        try:
            event = await self.client.call(
                _api("events", "get", calendarId=calendar, eventId=event_id), what=f"events.get {ext_id}"
            )
        except RecordNotFound:
            return Change(
                external_id=ext_id,
                version=None,
                tombstone=Tombstone(deleted_at=now, reason=DeleteReason.DELETED),
            )
        return change_from_event(calendar, event, now)

    # --- writes -----------------------------------------------------------------------------
    async def create(
        self, stream: str, partition: str, body: AnyBody, origin: str, *, idempotency_key: str | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> WriteResult:
        """``events.insert``; with a key, the event id is derived from it, so a retried insert meets
        Google's 409 ``duplicate`` and the event the first attempt made is adopted."""
        self._check_stream(stream)
        event = event_from_unified(self._event_body(body), origin, for_insert=True)
        if idempotency_key:
            event["id"] = event_id_for(idempotency_key)
        try:
            created = await self.client.call(
                _api("events", "insert", calendarId=partition, body=event), what=f"events.insert {partition}"
            )
        except PreconditionFailed:
            if not idempotency_key:
                raise
            existing = await self._adoptable(partition, event["id"])
            if existing is None:
                raise  # a clash on something else (an iCalUID already in the calendar)
            return WriteResult(external_id(partition, str(existing["id"])), existing.get("etag"), existing,
                               adopted=True)
        return WriteResult(external_id(partition, str(created["id"])), created.get("etag"), created)

    async def _adoptable(self, calendar: str, event_id: str) -> dict[str, Any] | None:
        """The live event with ``event_id``, if an earlier insert made it."""
        try:
            found: dict[str, Any] = await self.client.call(
                _api("events", "get", calendarId=calendar, eventId=event_id), what=f"events.get {event_id}"
            )
        except RecordNotFound:
            return None
        return None if found.get("status") == "cancelled" else found

    async def update(
        self, stream: str, external_id: str, body: AnyBody, if_version: str | None, origin: str
    ) -> WriteResult:
        self._check_stream(stream)
        calendar, event_id = self._split(external_id)
        event = event_from_unified(self._event_body(body), origin, for_insert=False)
        headers = {"If-Match": if_version} if if_version else None
        patched = await self.client.call(
            _api("events", "patch", calendarId=calendar, eventId=event_id, body=event),
            headers=headers,
            what=f"events.patch {external_id}",
        )
        return WriteResult(external_id, patched.get("etag"), patched)

    async def delete(self, stream: str, external_id: str, if_version: str | None) -> None:
        self._check_stream(stream)
        calendar, event_id = self._split(external_id)
        headers = {"If-Match": if_version} if if_version else None
        try:
            await self.client.call(
                _api("events", "delete", calendarId=calendar, eventId=event_id),
                headers=headers,
                what=f"events.delete {external_id}",
            )
        except RecordNotFound:
            return  # already gone: deleting is idempotent

    # --- push channels and webhooks -----------------------------------------------------------
    async def open_channel(self, calendar: str, address: str, ttl_s: int | None = None) -> Channel:
        """``events.watch`` on ``calendar``; the channel is remembered so its deliveries verify."""
        token = (
            self.settings.channel_token.get_secret_value()
            if self.settings.channel_token
            else secrets.token_urlsafe(32)
        )
        request: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": "web_hook",
            "address": address,
            "token": token,
        }
        if ttl_s is not None:
            request["params"] = {"ttl": str(ttl_s)}
        answer = await self.client.call(
            _api("events", "watch", calendarId=calendar, body=request), what=f"events.watch {calendar}"
        )
        expiration = answer.get("expiration")
        channel = Channel(
            id=str(answer.get("id", request["id"])),
            calendar=calendar,
            token=token,
            resource_id=str(answer["resourceId"]),
            expiration=datetime.fromtimestamp(int(expiration) / 1000, UTC) if expiration else None,
        )
        self.channels.add(channel)
        return channel

    async def close_channel(self, channel_id: str) -> None:
        """``channels.stop``; a channel Google no longer knows counts as closed."""
        channel = self.channels.remove(channel_id)
        if channel is None:
            return
        try:
            await self.client.call(
                _api("channels", "stop", body={"id": channel.id, "resourceId": channel.resource_id}),
                what=f"channels.stop {channel_id}",
            )
        except RecordNotFound:
            return

    def remember_channel(self, channel: Channel) -> None:
        """Accept deliveries of a channel opened before a restart (restored from storage)."""
        self.channels.add(channel)

    def verify(self, headers: dict[str, str], body: bytes) -> None:
        self._webhooks.verify(headers, body)

    def parse(self, headers: dict[str, str], body: bytes) -> list[WebhookHint]:
        return self._webhooks.parse(headers, body)

    # --- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _check_stream(stream: str) -> None:
        if stream != STREAM:
            raise ConfigError(f"google calendar has no stream {stream!r} (only {STREAM!r})")

    @staticmethod
    def _split(ext_id: str) -> tuple[str, str]:
        try:
            return split_external_id(ext_id)
        except ValueError as exc:
            raise RecordNotFound(str(exc)) from exc

    @staticmethod
    def _event_body(body: AnyBody) -> CalendarEvent:
        if not isinstance(body, CalendarEvent):
            raise ConfigError(f"google calendar stores calendar events, not {body.kind}")
        return body


def event_id_for(idempotency_key: str) -> str:
    """A Google event id (base32hex, lowercase, 5-1024 characters) that only this key gives."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return base64.b32hexencode(digest).decode().lower().rstrip("=")
