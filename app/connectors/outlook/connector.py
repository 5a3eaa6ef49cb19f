"""``OutlookConnector``: Outlook calendars through Microsoft Graph v1.0.

Stream ``events`` (``calendar_event``), one partition per calendar id. A full read starts
a ``calendarView/delta`` round over a window (``window_days_back`` .. ``window_days_ahead``
around today, fixed for the round by Graph); every page's cursor is its ``@odata.nextLink``
and the last page's is the ``@odata.deltaLink``, the next round's start. ``@removed``
items become tombstones; a dead token (410 / ``syncStateNotFound``) is
``CursorInvalidated``. Recurring meetings arrive as occurrences; their ``ical_uid`` is the
series master's (fetched once per series), the value other tools share.

Writes: ``create`` posts with a ``transactionId`` derived from (origin, calendar, body),
so a retried create returns the event it already made; ``update``/``delete`` send
``If-Match`` with the changeKey. The hub's origin rides in a single-value extended property.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
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
from app.connectors.common import RetryPolicy, metered
from app.connectors.outlook.client import GraphClient
from app.connectors.outlook.mapping import from_unified, to_unified
from app.connectors.outlook.webhooks import GraphSubscription, GraphWebhooks, SubscriptionRegistry
from app.errors import ConfigError, PermissionDenied, RecordNotFound
from app.models import AnyBody, CalendarEvent, DeleteReason, RecordKind, Tombstone
from app.settings import OutlookSettings

__all__ = ["STREAM", "OutlookConnector"]

STREAM = "events"
PAGE_SIZE = 1000
"""Asked with ``Prefer: odata.maxpagesize``; Graph (and the sandbox) answer what they honour."""
_READ_PREFER = 'outlook.timezone="UTC", outlook.body-content-type="text"'
_TRANSACTION_NS = uuid.UUID("0f5d7c2a-3e61-4b8e-a1d9-6c2b7e4f9a13")


class OutlookConnector:
    system = "outlook"
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

    def __init__(self, name: str, settings: OutlookSettings, *, retry: RetryPolicy | None = None) -> None:
        self.name = name
        self.settings = settings
        self._retry = retry
        self._client: GraphClient | None = None
        user = settings.user
        self._owner = "/me" if user == "me" else f"/users/{user}"
        self.subscriptions = SubscriptionRegistry()
        self._webhooks = GraphWebhooks(name, STREAM, self.subscriptions)
        self._calendar_of: dict[str, str] = {}
        self._series_uid: dict[str, str | None] = {}

    # --- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        s = self.settings
        self._client = GraphClient(
            s.base_url or "https://graph.microsoft.com",
            s.authority_url or "https://login.microsoftonline.com",
            s.tenant_id,
            s.client_id,
            s.client_secret.get_secret_value(),
            max_concurrency=s.max_concurrency,
            timeout_s=s.timeout_s,
            ca_file=s.ca_file,
            retry=self._retry,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> GraphClient:
        if self._client is None:
            raise RuntimeError("use the connector inside 'async with'")
        return self._client

    # --- status ---------------------------------------------------------------------------
    async def check(self) -> CheckResult:
        try:
            calendars = await self._calendars()
        except PermissionDenied as exc:
            return CheckResult(False, str(exc), missing_scopes=("Calendars.Read",))
        except ConfigError as exc:
            return CheckResult(False, str(exc))
        wanted = set(self.settings.calendars) - {c["id"] for c in calendars}
        if wanted:
            return CheckResult(
                False, f"calendars not found in {self.settings.user}'s mailbox: {sorted(wanted)}"
            )
        return CheckResult(True, f"{len(calendars)} calendars readable in {self.settings.user}'s mailbox")

    async def _calendars(self) -> list[dict[str, Any]]:
        response = await self.client.request("GET", f"{self._owner}/calendars", params={"$top": "100"})
        value: list[dict[str, Any]] = response.json()["value"]
        return value

    async def list_partitions(self, stream: str) -> list[str]:
        self._stream(stream)
        if self.settings.calendars:
            return list(self.settings.calendars)
        return [c["id"] for c in await self._calendars()]

    # --- reads ----------------------------------------------------------------------------
    def _window(self) -> dict[str, str]:
        # Whole days, so a full read and a census made the same day cover the same events.
        today = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
        start = today - timedelta(days=self.settings.window_days_back)
        end = today + timedelta(days=self.settings.window_days_ahead + 1)
        return {
            "startDateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    async def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        self._stream(stream)
        headers = {"Prefer": f"odata.maxpagesize={PAGE_SIZE}, {_READ_PREFER}"}
        url = cursor or f"{self._owner}/calendars/{partition}/calendarView/delta"
        params = None if cursor else self._window()
        while True:
            with metered() as meter:
                response = await self.client.request("GET", url, headers=headers, params=params)
                body = response.json()
                changes = await self._changes(body.get("value") or [], partition)
            link = body.get("@odata.nextLink") or body.get("@odata.deltaLink")
            if not link:
                raise ConfigError(f"Graph delta page without nextLink or deltaLink for calendar {partition}")
            yield Page(changes, cursor_after=link, api_calls=meter.calls)
            if "@odata.nextLink" not in body:
                return
            url, params = link, None

    async def _changes(self, items: list[dict[str, Any]], calendar: str) -> list[Change]:
        now = datetime.now(UTC)
        changes: list[Change] = []
        for item in items:
            if "@removed" in item:
                changes.append(
                    Change(
                        external_id=item["id"],
                        version=None,
                        raw=item,
                        tombstone=Tombstone(deleted_at=now, reason=DeleteReason.DELETED),
                    )
                )
                continue
            changes.append(await self._upsert(item, calendar))
        return changes

    async def _upsert(self, item: dict[str, Any], calendar: str) -> Change:
        self._calendar_of[item["id"]] = calendar
        series = item.get("seriesMasterId")
        body = to_unified(item, calendar, await self._series_ical_uid(series) if series else None)
        return Change(
            external_id=item["id"],
            version=item.get("changeKey"),
            body=body,
            raw=item,
            created_at=_timestamp(item.get("createdDateTime")),
            updated_at=_timestamp(item.get("lastModifiedDateTime")),
            url=item.get("webLink"),
        )

    async def _series_ical_uid(self, master_id: str) -> str | None:
        if master_id not in self._series_uid:
            try:
                response = await self.client.request(
                    "GET", f"{self._owner}/events/{master_id}", params={"$select": "iCalUId"}
                )
                self._series_uid[master_id] = response.json().get("iCalUId")
            except RecordNotFound:
                self._series_uid[master_id] = None
        return self._series_uid[master_id]

    async def list_refs(self, stream: str, partition: str) -> AsyncIterator[Sequence[Ref]]:
        self._stream(stream)
        url = f"{self._owner}/calendars/{partition}/calendarView"
        params: dict[str, str] | None = {**self._window(), "$top": str(PAGE_SIZE), "$select": "id,changeKey"}
        while True:
            body = (await self.client.request("GET", url, params=params)).json()
            yield [Ref(item["id"], item.get("changeKey")) for item in body.get("value") or []]
            if not body.get("@odata.nextLink"):
                return
            url, params = body["@odata.nextLink"], None

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        self._stream(stream)
        return list(await asyncio.gather(*(self._get_one(i) for i in ids)))

    async def _get_one(self, event_id: str) -> Change:
        headers = {"Prefer": _READ_PREFER}
        calendars = (
            [self._calendar_of[event_id]]
            if event_id in self._calendar_of
            else await self.list_partitions(STREAM)
        )
        for calendar in calendars:
            try:
                response = await self.client.request(
                    "GET", f"{self._owner}/calendars/{calendar}/events/{event_id}", headers=headers
                )
            except RecordNotFound:
                continue
            return await self._upsert(response.json(), calendar)
        return Change(
            external_id=event_id,
            version=None,
            tombstone=Tombstone(deleted_at=datetime.now(UTC), reason=DeleteReason.DELETED),
        )

    # --- writes ---------------------------------------------------------------------------
    async def create(
        self, stream: str, partition: str, body: AnyBody, origin: str, *, idempotency_key: str | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> WriteResult:
        """POST with a ``transactionId`` (from ``idempotency_key`` when given): Graph answers a retried
        create with the event the first attempt made."""
        event = self._event(stream, body)
        payload = from_unified(event, origin)
        basis = idempotency_key or f"{origin}\x1f{partition}\x1f{event.model_dump_json()}"
        payload["transactionId"] = str(uuid.uuid5(_TRANSACTION_NS, basis))
        response = await self.client.request(
            "POST", f"{self._owner}/calendars/{partition}/events", json=payload, idempotent=True
        )
        created = response.json()
        self._calendar_of[created["id"]] = partition
        written = _written(created)
        if _edited_since_created(created):
            # Graph answers a known transactionId with the event as it is now: not our body, perhaps.
            return WriteResult(written.external_id, written.version, written.raw, adopted=True)
        return written

    async def update(
        self, stream: str, external_id: str, body: AnyBody, if_version: str | None, origin: str
    ) -> WriteResult:
        event = self._event(stream, body)
        headers = {"If-Match": f'W/"{if_version}"'} if if_version else {}
        response = await self.client.request(
            "PATCH", f"{self._owner}/events/{external_id}", json=from_unified(event, origin), headers=headers
        )
        return _written(response.json())

    async def delete(self, stream: str, external_id: str, if_version: str | None) -> None:
        self._stream(stream)
        headers = {"If-Match": f'W/"{if_version}"'} if if_version else {}
        try:
            await self.client.request("DELETE", f"{self._owner}/events/{external_id}", headers=headers)
        except RecordNotFound:
            return  # already gone: the outcome the caller wanted
        self._calendar_of.pop(external_id, None)

    # --- subscriptions and webhooks -------------------------------------------------------
    async def subscribe(
        self, partition: str, notification_url: str, lifecycle_url: str | None = None, minutes: int = 10070
    ) -> GraphSubscription:
        """Create a change subscription on one calendar (Graph runs the handshake before answering)."""
        secret = self.settings.client_state
        if secret is None:
            raise ConfigError(
                f"connectors.{self.name}.client_state must be set to receive Graph notifications"
            )
        expiration = datetime.now(UTC) + timedelta(minutes=minutes)
        payload: dict[str, Any] = {
            "changeType": "created,updated,deleted",
            "notificationUrl": notification_url,
            "resource": f"{self._owner.lstrip('/')}/calendars/{partition}/events",
            "expirationDateTime": expiration.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "clientState": secret.get_secret_value(),
        }
        if lifecycle_url:
            payload["lifecycleNotificationUrl"] = lifecycle_url
        body = (await self.client.request("POST", "/subscriptions", json=payload)).json()
        sub = GraphSubscription(
            body["id"], partition, secret.get_secret_value(), _timestamp(body.get("expirationDateTime"))
        )
        self.subscriptions.add(sub)
        return sub

    def remember_subscription(self, sub_id: str, partition: str) -> None:
        """Accept notifications of a subscription created before a restart."""
        secret = self.settings.client_state
        if secret is None:
            raise ConfigError(f"connectors.{self.name}.client_state is not set")
        self.subscriptions.add(GraphSubscription(sub_id, partition, secret.get_secret_value()))

    async def renew_subscription(self, sub_id: str, minutes: int = 10070) -> None:
        expiration = (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        await self.client.request(
            "PATCH", f"/subscriptions/{sub_id}", json={"expirationDateTime": expiration}, idempotent=True
        )

    async def unsubscribe(self, sub_id: str) -> None:
        with contextlib.suppress(RecordNotFound):  # already gone is fine
            await self.client.request("DELETE", f"/subscriptions/{sub_id}", idempotent=True)
        self.subscriptions.remove(sub_id)

    def handshake_answer(self, query: Mapping[str, str]) -> str | None:
        """When ``query`` carries Graph's ``validationToken``, the text to answer (200, text/plain)."""
        return self._webhooks.handshake_answer(query)

    def verify(self, headers: dict[str, str], body: bytes) -> None:
        self._webhooks.verify(headers, body)

    def parse(self, headers: dict[str, str], body: bytes) -> list[WebhookHint]:
        return self._webhooks.parse(headers, body)

    # --- helpers --------------------------------------------------------------------------
    @staticmethod
    def _stream(stream: str) -> None:
        if stream != STREAM:
            raise ConfigError(f"the outlook connector has no stream {stream!r} (only {STREAM!r})")

    def _event(self, stream: str, body: AnyBody) -> CalendarEvent:
        self._stream(stream)
        if not isinstance(body, CalendarEvent):
            raise ConfigError(f"the outlook connector writes calendar events, not {body.kind}")
        return body


def _timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    head, _, rest = text.partition(".")
    if rest:
        digits = rest.split("+")[0][:6]
        text = f"{head}.{digits}+00:00"
    return datetime.fromisoformat(text).astimezone(UTC)


def _edited_since_created(event: dict[str, Any]) -> bool:
    """True when the event was modified after it was created (more than a second apart)."""
    created, modified = event.get("createdDateTime"), event.get("lastModifiedDateTime")
    if not isinstance(created, str) or not isinstance(modified, str):
        return False
    try:
        made_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
        changed_at = datetime.fromisoformat(modified.replace("Z", "+00:00"))
    except ValueError:
        return False
    return changed_at - made_at > timedelta(seconds=1)


def _written(event: dict[str, Any]) -> WriteResult:
    return WriteResult(external_id=event["id"], version=event.get("changeKey"), raw=event)
