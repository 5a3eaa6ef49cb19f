"""Credentials, refresh, retries and check() of the connector's client, against the simulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from gcal_connector_helpers import RecordedSleeps, fast_policy, sandbox_settings

from app.connectors.google_calendar import GoogleCalendarConnector
from app.errors import ConfigError, RateLimited, TransientError
from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.google_calendar import SANDBOX_ACCESS_TOKEN, GoogleCalendarSimulator
from app.settings import GoogleCalendarSettings


async def test_a_burst_of_401s_costs_one_token_refresh(
    connector: GoogleCalendarConnector, sim: GoogleCalendarSimulator
) -> None:
    refs = [r async for batch in connector.list_refs("events", sim.team_calendar) for r in batch][:12]
    sim.expire_access_tokens()
    changes = await connector.get_many("events", [r.external_id for r in refs])
    assert all(c.body is not None for c in changes)
    assert sim.auth.grants == 1
    assert connector.client.credentials is not None and connector.client.credentials.refreshes == 1


async def test_an_access_token_without_refresh_rights_fails_as_config_once_revoked(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> None:
    settings = GoogleCalendarSettings(base_url=served.url, access_token=SANDBOX_ACCESS_TOKEN)  # type: ignore[arg-type]
    async with GoogleCalendarConnector("g", settings, retry_policy=fast_policy()) as conn:
        assert (await conn.check()).ok
        sim.expire_access_tokens()
        with pytest.raises(ConfigError):
            await conn.list_partitions("events")
        result = await conn.check()
    assert not result.ok and "ConfigError" in result.detail


async def test_rate_limits_are_paced_by_retry_after(served: ServedApp, sim: GoogleCalendarSimulator) -> None:
    sleeps = RecordedSleeps()
    sim.chaos.update({"rate_limit_rate": 1.0, "retry_after_s": 3})
    policy = fast_policy(sleeps, max_rate_limited=2)
    async with GoogleCalendarConnector(
        "g", sandbox_settings(served.url, [sim.team_calendar]), retry_policy=policy
    ) as conn:
        with pytest.raises(RateLimited):
            [p async for p in conn.read_changes("events", sim.team_calendar, None)]
        assert conn.api_calls == 3
    assert len(sleeps.delays) == 2 and all(d >= 3 for d in sleeps.delays)


async def test_server_errors_are_retried_then_transient(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> None:
    sleeps = RecordedSleeps()
    sim.chaos.update({"error_rate": 1.0})
    async with GoogleCalendarConnector(
        "g",
        sandbox_settings(served.url, [sim.team_calendar]),
        retry_policy=fast_policy(sleeps, max_attempts=3),
    ) as conn:
        with pytest.raises(TransientError):
            [p async for p in conn.read_changes("events", sim.team_calendar, None)]
    assert len(sleeps.delays) == 2


@pytest.fixture
def scopeless_google() -> Iterator[ServedApp]:
    """A Google that knows the token but refuses for want of a scope (the sandbox never does)."""
    app = FastAPI()

    @app.get("/users/me/calendarList")
    async def calendar_list() -> JSONResponse:
        return JSONResponse(
            status_code=403,
            content={
                "error": {
                    "code": 403,
                    "message": "Request had insufficient authentication scopes.",
                    "status": "PERMISSION_DENIED",
                    "errors": [
                        {
                            "domain": "global",
                            "reason": "insufficientPermissions",
                            "message": "Insufficient Permission",
                        }
                    ],
                }
            },
        )

    served = serve_in_thread(app)
    try:
        yield served
    finally:
        served.stop()


async def test_check_names_the_missing_scope_on_403(scopeless_google: ServedApp) -> None:
    settings = GoogleCalendarSettings(base_url=scopeless_google.url, access_token="t")  # type: ignore[arg-type]
    async with GoogleCalendarConnector("g", settings, retry_policy=fast_policy()) as conn:
        result = await conn.check()
    assert not result.ok
    assert result.missing_scopes == ("https://www.googleapis.com/auth/calendar",)


async def test_check_reports_an_invisible_configured_calendar(served: ServedApp) -> None:
    async with GoogleCalendarConnector(
        "g", sandbox_settings(served.url, ["nobody@orbit.example"]), retry_policy=fast_policy()
    ) as conn:
        result = await conn.check()
    assert not result.ok and "not visible" in result.detail


async def test_a_service_account_gets_its_token_from_the_token_endpoint(
    served: ServedApp, sim: GoogleCalendarSimulator, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "sa.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "sandbox",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "passerelle@sandbox.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{served.url}/token",
            }
        )
    )
    settings = GoogleCalendarSettings(
        base_url=served.url,
        service_account_file=path,  # type: ignore[call-arg]
        calendars=[sim.team_calendar],
    )
    async with GoogleCalendarConnector("g", settings, retry_policy=fast_policy()) as conn:
        assert (await conn.check()).ok
    assert sim.auth.grants == 1


async def test_missing_credentials_are_a_config_error() -> None:
    with pytest.raises(ConfigError):
        async with GoogleCalendarConnector("g", GoogleCalendarSettings()):  # type: ignore[call-arg]
            await asyncio.sleep(0)
