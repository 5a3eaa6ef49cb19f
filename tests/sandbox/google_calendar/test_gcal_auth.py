"""Bearer tokens, the OAuth refresh flow of google-auth against the sandbox, and the revoked-token chaos."""

from __future__ import annotations

import httpx
import pytest
from gcal_helpers import make_service
from google.auth.exceptions import RefreshError

from app.sandbox.common import ServedApp
from app.sandbox.google_calendar import GoogleCalendarSimulator


def test_an_expired_access_token_is_refreshed_through_the_token_endpoint(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> None:
    service = make_service(served.url)
    service.calendarList().list().execute()
    sim.expire_access_tokens()
    items = service.calendarList().list().execute()["items"]
    assert items
    assert sim.auth.grants == 1
    statuses = [(e.path, e.status) for e in sim.log.since(0)]
    assert statuses == [
        ("/users/me/calendarList", 200),
        ("/users/me/calendarList", 401),
        ("/token", 200),
        ("/users/me/calendarList", 200),
    ]


def test_credentials_without_a_token_get_one_before_the_first_call(
    served: ServedApp, sim: GoogleCalendarSimulator
) -> None:
    service = make_service(served.url, token=None)
    assert service.events().list(calendarId="primary").execute()["items"]
    assert sim.auth.grants == 1


def test_a_revoked_token_answers_401_auth_error(served: ServedApp, sim: GoogleCalendarSimulator) -> None:
    sim.chaos.update({"token_expired": True})
    answer = httpx.get(f"{served.url}/users/me/calendarList", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
    assert answer.json()["error"]["errors"][0]["reason"] == "authError"
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
    with pytest.raises(RefreshError):
        make_service(served.url).calendarList().list().execute()


def test_missing_or_unknown_bearer_tokens_are_refused(served: ServedApp) -> None:
    assert httpx.get(f"{served.url}/users/me/calendarList").status_code == 401
    unknown = httpx.get(f"{served.url}/users/me/calendarList", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    assert unknown.json()["error"]["status"] == "UNAUTHENTICATED"


def test_the_token_endpoint_refuses_a_wrong_refresh_token(served: ServedApp) -> None:
    answer = httpx.post(
        f"{served.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": "sandbox.apps.googleusercontent.com",
            "client_secret": "sandbox-client-secret",
        },
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
