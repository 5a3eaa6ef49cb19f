"""Helpers for the Outlook connector tests (imported by name: this folder is on sys.path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from app.connectors.base import Change
from app.connectors.outlook import OutlookConnector
from app.models import CalendarEvent
from app.sandbox.graph import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT_ID
from app.settings import OutlookSettings

CLIENT_STATE = "outlook-test-client-state"


def settings_for(url: str, **extra: Any) -> OutlookSettings:
    values: dict[str, Any] = {
        "tenant_id": SANDBOX_TENANT_ID,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SecretStr(SANDBOX_CLIENT_SECRET),
        "base_url": url,
        "authority_url": url,
        "client_state": SecretStr(CLIENT_STATE),
    }
    values.update(extra)
    return OutlookSettings(**values)


async def read_round(
    connector: OutlookConnector, calendar: str, cursor: str | None
) -> tuple[list[Change], str | None, int, int]:
    """(changes, cursor after, pages, api calls) of one read."""
    changes: list[Change] = []
    pages = calls = 0
    async for page in connector.read_changes("events", calendar, cursor):
        changes.extend(page.changes)
        cursor = page.cursor_after or cursor
        pages += 1
        calls += page.api_calls
    return changes, cursor, pages, calls


def hub_event(calendar: str, title: str = "Planned by the hub", days: int = 4) -> CalendarEvent:
    start = datetime.combine(
        datetime.now(UTC).date() + timedelta(days=days), datetime.min.time(), UTC
    ) + timedelta(hours=13)
    return CalendarEvent(calendar=calendar, title=title, start=start, end=start + timedelta(minutes=45))


def sleeper(then: Callable[[], None]) -> Callable[[float], Awaitable[None]]:
    """A retry sleep that records the delays and runs ``then`` (e.g. lifting chaos) instead of waiting."""
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        then()

    sleep.delays = delays  # type: ignore[attr-defined]
    return sleep
