"""Change-notification subscriptions on Outlook events.

Creating one validates the ``notificationUrl`` (and ``lifecycleNotificationUrl``):
Graph POSTs ``?validationToken=...`` and needs ``200 text/plain`` echoing the decoded
token within 10 s, else the subscription is not created (400 ``ValidationError``).
Changes to matching events are POSTed as a ``changeNotificationCollection`` through
the simulator's webhook dispatcher (3 s to answer, retried on failure); lifecycle
events go to the lifecycle URL.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from app.sandbox.common.webhooks import Delivery, WebhookDispatcher
from app.sandbox.graph.errors import GraphError
from app.sandbox.graph.model import StoredEvent
from app.sandbox.graph.store import GraphStore

__all__ = ["MAX_EXPIRATION_MINUTES", "Subscription", "SubscriptionRegistry"]

MAX_EXPIRATION_MINUTES = 10080
"""Outlook event subscriptions last at most 10,080 minutes (under 7 days)."""
LIFECYCLE_EVENTS = frozenset({"reauthorizationRequired", "subscriptionRemoved", "missed"})
_CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
_RESOURCE = re.compile(r"^/?(me|users/(?P<user>[^/]+))(/calendars/(?P<cal>[^/]+)|/calendar)?/events$", re.I)


@dataclass
class Subscription:
    id: str
    resource: str
    change_types: frozenset[str]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expiration: datetime
    user_id: str
    calendar_id: str | None
    application_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": ",".join(sorted(self.change_types)),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": _iso(self.expiration),
            "creatorId": self.user_id,
            "includeResourceData": False,
            "latestSupportedTlsVersion": "v1_2",
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationQueryOptions": None,
            "notificationUrlAppId": None,
        }

    def matches(self, event: StoredEvent) -> bool:
        return event.user_id == self.user_id and self.calendar_id in (None, event.calendar_id)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _parse_expiration(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise GraphError(400, "InvalidRequest", "expirationDateTime is not a valid date.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if moment <= now:
        raise GraphError(400, "InvalidRequest", "Subscription expiration must be in the future.")
    if moment > now + timedelta(minutes=MAX_EXPIRATION_MINUTES):
        raise GraphError(
            400,
            "InvalidRequest",
            f"Subscription expiration can only be {MAX_EXPIRATION_MINUTES} minutes in the future.",
        )
    return moment


class SubscriptionRegistry:
    def __init__(self, store: GraphStore, dispatcher: WebhookDispatcher, verify: bool | str = True) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.verify = verify
        self.subscriptions: dict[str, Subscription] = {}
        self.validation_timeout_s = 10.0
        self.notification_timeout_s = 3.0
        self.retry_delays_s: tuple[float, ...] = (1.0, 5.0, 30.0)
        store.listeners.append(self.on_change)

    # --- API ------------------------------------------------------------------------------
    async def create(self, body: dict[str, Any], application_id: str) -> Subscription:
        for needed in ("changeType", "notificationUrl", "resource", "expirationDateTime"):
            if not body.get(needed):
                raise GraphError(400, "InvalidRequest", f"'{needed}' is required.")
        change_types = frozenset(c.strip() for c in str(body["changeType"]).split(","))
        if not change_types <= _CHANGE_TYPES:
            raise GraphError(400, "InvalidRequest", f"Invalid changeType '{body['changeType']}'.")
        match = _RESOURCE.match(str(body["resource"]))
        if match is None:
            raise GraphError(
                400,
                "InvalidRequest",
                f"Resource '{body['resource']}' is not supported by the "
                "sandbox: use me/events, users/{id}/events or .../calendars/{id}/events.",
            )
        user = self.store.resolve_user(match.group("user") or "me")
        calendar_id = match.group("cal")
        if calendar_id:
            self.store.calendar(user.id, calendar_id)
        url = str(body["notificationUrl"])
        lifecycle = body.get("lifecycleNotificationUrl")
        if not url.startswith("https://") and not _loopback(url):
            raise GraphError(400, "InvalidRequest", "notificationUrl must be an https URL.")
        expiration = _parse_expiration(body["expirationDateTime"])
        await self._validate(url)
        if lifecycle:
            await self._validate(str(lifecycle))
        sub = Subscription(
            str(uuid.uuid4()),
            str(body["resource"]),
            change_types,
            url,
            str(lifecycle) if lifecycle else None,
            body.get("clientState"),
            expiration,
            user.id,
            calendar_id,
            application_id,
        )
        self.subscriptions[sub.id] = sub
        return sub

    def get(self, sub_id: str) -> Subscription:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            raise GraphError(404, "ResourceNotFound", f"The object was not found: subscription {sub_id}.")
        return sub

    def renew(self, sub_id: str, body: dict[str, Any]) -> Subscription:
        sub = self.get(sub_id)
        if "expirationDateTime" in body:
            sub.expiration = _parse_expiration(body["expirationDateTime"])
        if "notificationUrl" in body:
            sub.notification_url = str(body["notificationUrl"])
        return sub

    def delete(self, sub_id: str) -> None:
        self.get(sub_id)
        del self.subscriptions[sub_id]

    # --- deliveries -----------------------------------------------------------------------
    def on_change(self, event: StoredEvent, change_type: str) -> None:
        now = datetime.now(UTC)
        for sub in list(self.subscriptions.values()):
            if sub.expiration <= now or change_type not in sub.change_types or not sub.matches(event):
                continue
            resource = f"Users/{sub.user_id}/Events/{event.id}"
            note = {
                "subscriptionId": sub.id,
                "subscriptionExpirationDateTime": _iso(sub.expiration),
                "changeType": change_type,
                "resource": resource,
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": resource,
                    "@odata.etag": f'W/"{event.change_key}"',
                    "id": event.id,
                },
                "clientState": sub.client_state,
                "tenantId": self.store.tenant_id,
            }
            self._post(sub.notification_url, {"value": [note]}, f"{change_type}:{event.id}")

    def send_lifecycle(self, sub_id: str, lifecycle_event: str) -> None:
        if lifecycle_event not in LIFECYCLE_EVENTS:
            raise GraphError(400, "InvalidRequest", f"Unknown lifecycle event '{lifecycle_event}'.")
        sub = self.get(sub_id)
        if sub.lifecycle_url is None:
            raise GraphError(400, "InvalidRequest", "The subscription has no lifecycleNotificationUrl.")
        note = {
            "subscriptionId": sub.id,
            "subscriptionExpirationDateTime": _iso(sub.expiration),
            "tenantId": self.store.tenant_id,
            "clientState": sub.client_state,
            "lifecycleEvent": lifecycle_event,
        }
        self._post(sub.lifecycle_url, {"value": [note]}, f"lifecycle:{lifecycle_event}")
        if lifecycle_event == "subscriptionRemoved":
            del self.subscriptions[sub_id]

    def _post(self, url: str, payload: dict[str, Any], label: str) -> None:
        body = json.dumps(payload).encode()

        def build(attempt: int) -> tuple[dict[str, str], bytes]:
            return {"Content-Type": "application/json; charset=utf-8"}, body

        self.dispatcher.send(
            Delivery(
                url=url,
                build=build,
                event=label,
                timeout_s=self.notification_timeout_s,
                retry_delays_s=self.retry_delays_s,
            )
        )

    async def _validate(self, url: str) -> None:
        token = (
            f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
        )
        sep = "&" if "?" in url else "?"
        try:
            async with httpx.AsyncClient(verify=self.verify, timeout=self.validation_timeout_s) as client:
                response = await client.post(
                    f"{url}{sep}validationToken={quote(token)}",
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                )
        except httpx.HTTPError as exc:
            raise GraphError(
                400,
                "ValidationError",
                f"Subscription validation request failed. Notification "
                f"endpoint must respond with 200 OK to validation request. ({exc.__class__.__name__})",
            ) from exc
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200:
            raise GraphError(
                400,
                "ValidationError",
                "Subscription validation request failed. Notification "
                f"endpoint must respond with 200 OK to validation request (got {response.status_code}).",
            )
        if not content_type.startswith("text/plain") or response.text != token:
            raise GraphError(
                400,
                "ValidationError",
                "Subscription validation request failed. Response must "
                "exactly match validationToken query parameter, as text/plain.",
            )


def _loopback(url: str) -> bool:
    # The sandbox also accepts plain-HTTP receivers on loopback (tests, demo); Graph requires https.
    return url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
