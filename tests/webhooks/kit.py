"""Shared by the webhook, API and browser tests: settings with every vendor, a hub app in-process,
and the vendors' signing schemes (written from their docs, independent of the code under test)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app.api import create_app
from app.hub import Hub
from app.settings import Settings
from app.storage.protocol import SubscriptionRow
from app.webhooks import WebhookService
from tests.vendor_specs import VENDOR_SPECS

SAMPLES = VENDOR_SPECS / "samples"
ADMIN_TOKEN = "test-admin-token-5f1c2a9e7b"
JIRA_SECRET = "jira-webhook-secret-for-tests"
SLACK_SECRET = "slack-signing-secret-for-tests"
GOOGLE_TOKEN = "google-channel-token-for-tests"
GRAPH_STATE = "graph-client-state-for-tests"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def sample(path: str) -> Any:
    return json.loads((SAMPLES / path).read_text())


def connector_confs(**overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    confs: dict[str, dict[str, Any]] = {
        "jira": {
            "type": "jira",
            "email": "bot@example.com",
            "api_token": "jira-api-token",
            "webhook_secret": JIRA_SECRET,
            "projects": ["CHK"],
        },
        "slack": {"type": "slack", "bot_token": "xoxb-test", "signing_secret": SLACK_SECRET},
        "google": {"type": "google_calendar", "access_token": "ya29.test", "channel_token": GOOGLE_TOKEN},
        "outlook": {
            "type": "outlook",
            "tenant_id": "tenant",
            "client_id": "client",
            "client_secret": "s3cr3t",
            "client_state": GRAPH_STATE,
        },
    }
    confs.update(overrides)
    return confs


def hub_settings(
    tmp_path: Path, connectors: dict[str, dict[str, Any]] | None = None, **extra: Any
) -> Settings:
    data: dict[str, Any] = {
        "data_dir": tmp_path,
        "admin_token": ADMIN_TOKEN,
        "connectors": connector_confs() if connectors is None else connectors,
        "webhooks": {"max_body_bytes": 64 * 1024, "max_attempts": 3},
    }
    data.update(extra)
    return Settings(**data)


@dataclass
class Running:
    app: FastAPI
    hub: Hub
    webhooks: WebhookService
    client: httpx.AsyncClient


@contextlib.asynccontextmanager
async def running_app(settings: Settings, clock: Callable[[], float] = time.time) -> AsyncIterator[Running]:
    """The real app and routes on an in-process ASGI client, with the hub open but no vendor connection.

    The lifespan is replaced by what it does minus entering connectors and starting background
    work, so tests drive the inbox themselves (``webhooks.processor.drain()``) and inject the clock.
    """
    app = create_app(settings, start_scheduler=False, migrate=True)
    async with Hub(settings, migrate=True, connect=False) as hub:
        service = WebhookService(hub, clock=clock, backoff_base_s=0.0)
        app.state.hub = hub
        app.state.webhooks = service
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield Running(app, hub, service, client)


# --- vendor signing, from the vendors' docs ----------------------------------------------------


def slack_headers(body: bytes, timestamp: int, secret: str = SLACK_SECRET) -> dict[str, str]:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }


def jira_headers(body: bytes, identifier: str, secret: str = JIRA_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier,
        "X-Hub-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def flip_bit(data: bytes, index: int = 10) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def subscription(
    vendor: str,
    external_id: str,
    connector: str,
    partition: str,
    *,
    resource: str | None = None,
    expires_in: timedelta = timedelta(days=2),
) -> SubscriptionRow:
    now = datetime.now(UTC)
    return SubscriptionRow(
        vendor=vendor,
        external_id=external_id,
        connector=connector,
        stream="events",
        partition=partition,
        status="active",
        created_at=now,
        expires_at=now + expires_in,
        resource=resource,
    )
