"""Helpers of the Google Calendar connector tests."""

from __future__ import annotations

from app.connectors.common import RetryPolicy
from app.sandbox.common import RequestLogEntry
from app.sandbox.google_calendar import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
)
from app.settings import GoogleCalendarSettings


def sandbox_settings(url: str, calendars: list[str] | None = None, **extra: object) -> GoogleCalendarSettings:
    values: dict[str, object] = {
        "base_url": url,
        "token_uri": f"{url}/token",
        "access_token": SANDBOX_ACCESS_TOKEN,
        "refresh_token": SANDBOX_REFRESH_TOKEN,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "calendars": calendars or [],
        **extra,
    }
    return GoogleCalendarSettings.model_validate(values)


class RecordedSleeps:
    """An injected sleep for RetryPolicy: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def fast_policy(sleeps: RecordedSleeps | None = None, **extra: int) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps or RecordedSleeps(), **extra)  # type: ignore[arg-type]


def event_requests(entries: list[RequestLogEntry], calendar: str) -> list[RequestLogEntry]:
    return [e for e in entries if e.path.endswith(f"/calendars/{calendar}/events")]
