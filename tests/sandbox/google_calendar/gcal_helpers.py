"""Helpers of the Google Calendar simulator tests: googleapiclient clients and a push receiver."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from app.sandbox.google_calendar import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
)


def make_service(base_url: str, token: str | None = SANDBOX_ACCESS_TOKEN, refresh: bool = True) -> Any:
    credentials = Credentials(
        token=token,
        refresh_token=SANDBOX_REFRESH_TOKEN if refresh else None,
        token_uri=f"{base_url}/token",
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
    )
    return build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        client_options={"api_endpoint": base_url},
        cache_discovery=False,
    )


@dataclass
class Receiver:
    url: str
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout)
            return list(self.deliveries)
