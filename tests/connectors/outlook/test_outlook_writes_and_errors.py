"""Writes (transactionId, If-Match) and the error table of the Outlook connector."""

from __future__ import annotations

import httpx
import pytest
from outlook_helpers import hub_event, settings_for, sleeper
from pydantic import SecretStr

from app.connectors.common import RetryPolicy
from app.connectors.outlook import ORIGIN_PROPERTY, OutlookConnector
from app.connectors.outlook.errors import error_for
from app.errors import (
    ConfigError,
    CursorInvalidated,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    RecordNotFound,
    TransientError,
)
from app.sandbox.common import ServedApp
from app.sandbox.graph import GraphSimulator


async def test_a_retried_create_with_the_same_transaction_makes_one_event(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    before = len(sim.events_of("po"))
    body = hub_event(calendar)
    first = await connector.create("events", calendar, body, origin="hub:pair-1")
    retried = await connector.create("events", calendar, body, origin="hub:pair-1")
    assert retried.external_id == first.external_id
    assert len(sim.events_of("po")) == before + 1
    stored = sim.store.events[first.external_id]
    assert stored.extended == {ORIGIN_PROPERTY: "hub:pair-1"}
    assert stored.transaction_id


async def test_update_with_a_stale_change_key_is_a_precondition_failure(
    connector: OutlookConnector, calendar: str
) -> None:
    created = await connector.create("events", calendar, hub_event(calendar), origin="hub")
    moved = await connector.update(
        "events",
        created.external_id,
        hub_event(calendar, "Moved", days=5),
        if_version=created.version,
        origin="hub",
    )
    assert moved.version != created.version
    with pytest.raises(PreconditionFailed):
        await connector.delete("events", created.external_id, if_version=created.version)
    await connector.delete("events", created.external_id, if_version=moved.version)
    [gone] = await connector.get_many("events", [created.external_id])
    assert gone.tombstone is not None


async def test_a_read_only_app_is_told_which_permission_is_missing(
    sim: GraphSimulator, served: ServedApp, calendar: str
) -> None:
    sim.register_app("reader", "reader-secret", {"Calendars.Read"})
    settings = settings_for(served.url, client_id="reader", client_secret=SecretStr("reader-secret"))
    async with OutlookConnector("outlook", settings) as reader:
        assert (await reader.check()).ok
        with pytest.raises(PermissionDenied, match=r"Calendars\.ReadWrite"):
            await reader.create("events", calendar, hub_event(calendar), origin="hub")


async def test_wrong_credentials_are_a_config_error_and_check_says_so(served: ServedApp) -> None:
    async with OutlookConnector("outlook", settings_for(served.url, client_secret=SecretStr("nope"))) as bad:
        result = await bad.check()
        assert not result.ok and "invalid_client" in result.detail
        with pytest.raises(ConfigError):
            await bad.list_partitions("events")


async def test_429_is_paced_by_retry_after_then_succeeds(sim: GraphSimulator, served: ServedApp) -> None:
    sim.chaos.update({"rate_limit_rate": 1.0, "retry_after_s": 3})
    sleep = sleeper(lambda: sim.chaos.update({"rate_limit_rate": 0.0}))
    async with OutlookConnector(
        "outlook", settings_for(served.url), retry=RetryPolicy(sleep=sleep, jitter_s=0)
    ) as conn:
        assert len(await conn.list_partitions("events")) == 2
    assert sleep.delays == [3.0]  # type: ignore[attr-defined]


async def test_a_server_error_on_a_patch_is_not_retried(
    sim: GraphSimulator, connector: OutlookConnector, calendar: str
) -> None:
    created = await connector.create("events", calendar, hub_event(calendar), origin="hub")
    sim.chaos.update({"error_rate": 1.0})
    seq = sim.log.last_seq
    with pytest.raises(TransientError):
        await connector.update(
            "events", created.external_id, hub_event(calendar, "x"), created.version, "hub"
        )
    assert len(sim.log.since(seq)) == 1


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://graph.microsoft.com/v1.0/me/calendarView/delta")
    return httpx.Response(status, json=body if body is not None else {}, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "code", "headers", "expected"),
    [
        (401, "InvalidAuthenticationToken", None, ConfigError),
        (403, "ErrorAccessDenied", None, PermissionDenied),
        (404, "ErrorItemNotFound", None, RecordNotFound),
        (409, "ErrorIrresolvableConflict", None, PreconditionFailed),
        (412, "ErrorIrresolvableConflict", None, PreconditionFailed),
        (410, "SyncStateNotFound", None, CursorInvalidated),
        (400, "syncStateNotFound", None, CursorInvalidated),
        (429, "TooManyRequests", {"Retry-After": "7"}, RateLimited),
        (503, "ServiceNotAvailable", {"Retry-After": "2"}, RateLimited),
        (503, "ServiceNotAvailable", None, TransientError),
        (500, "InternalServerError", None, TransientError),
        (400, "ErrorInvalidRequest", None, ConfigError),
    ],
)
def test_the_error_table(
    status: int, code: str, headers: dict[str, str] | None, expected: type[Exception]
) -> None:
    error = error_for(response(status, {"error": {"code": code, "message": "m"}}, headers))
    assert type(error) is expected
    if expected is RateLimited:
        assert headers is not None and isinstance(error, RateLimited)
        assert error.retry_after == float(headers["Retry-After"])
