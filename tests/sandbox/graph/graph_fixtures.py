"""Helpers shared by the Graph sandbox tests (imported by name: this folder is on sys.path)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.sandbox.graph import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT_ID


def fetch_token(
    base_url: str, client_id: str = SANDBOX_CLIENT_ID, secret: str = SANDBOX_CLIENT_SECRET
) -> str:
    response = httpx.post(
        f"{base_url}/{SANDBOX_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default",
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def window(days_back: int = 30, days_ahead: int = 90) -> dict[str, str]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "startDateTime": (now - timedelta(days=days_back)).isoformat().replace("+00:00", "Z"),
        "endDateTime": (now + timedelta(days=days_ahead)).isoformat().replace("+00:00", "Z"),
    }


@dataclass
class Receiver:
    """A notification endpoint on loopback: answers the handshake per ``mode`` and records deliveries."""

    url: str = ""
    mode: str = "echo"  # echo | wrong | status500 | html
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    handshakes: list[str] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle(self, request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:
            self.handshakes.append(token)
            if self.mode == "wrong":
                return PlainTextResponse(token + "x")
            if self.mode == "status500":
                return PlainTextResponse("no", status_code=500)
            if self.mode == "html":
                return Response(token, media_type="text/html")
            return PlainTextResponse(token)
        self.deliveries.append(json.loads(await request.body()))
        self.arrived.set()
        return Response(status_code=202)

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while len(self.deliveries) < count and datetime.now(UTC) < deadline:
            self.arrived.wait(0.05)
            self.arrived.clear()
        return self.deliveries
