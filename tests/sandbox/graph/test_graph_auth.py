"""The identity platform in the Graph sandbox, driven by MSAL itself (over HTTPS, as MSAL requires)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import msal
import pytest
import requests
from graph_fixtures import fetch_token

from app.sandbox.common import ServedApp, serve_in_thread
from app.sandbox.graph import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT_ID, GraphSimulator
from app.sandbox.tls import SandboxCertificates, make_certificates

SCOPES = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def tls_served(sim: GraphSimulator, tmp_path: Path) -> Iterator[tuple[ServedApp, SandboxCertificates]]:
    certs = make_certificates(tmp_path / "tls")
    served = serve_in_thread(sim.app, certfile=certs.cert_file, keyfile=certs.key_file)
    yield served, certs
    served.stop()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:  # closed, so the server's shutdown does not wait on keep-alive
        yield http


def msal_app(
    url: str, ca_file: Path, session: requests.Session, secret: str = SANDBOX_CLIENT_SECRET
) -> msal.ConfidentialClientApplication:
    session.verify = str(ca_file)
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override ``verify``
    return msal.ConfidentialClientApplication(
        SANDBOX_CLIENT_ID,
        client_credential=secret,
        authority=f"{url}/{SANDBOX_TENANT_ID}",
        validate_authority=False,
        instance_discovery=False,
        http_client=session,
    )


def test_msal_client_credentials_get_a_token_graph_accepts(
    sim: GraphSimulator, tls_served: tuple[ServedApp, SandboxCertificates], session: requests.Session
) -> None:
    served, certs = tls_served
    result = msal_app(served.url, certs.ca_file, session).acquire_token_for_client(scopes=SCOPES)
    assert "access_token" in result, result
    me = httpx.get(
        f"{served.url}/v1.0/me",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        verify=str(certs.ca_file),
    )
    assert me.status_code == 200
    assert sim.issuer.issued == 1


def test_msal_reports_a_wrong_secret(
    tls_served: tuple[ServedApp, SandboxCertificates], session: requests.Session
) -> None:
    served, certs = tls_served
    result = msal_app(served.url, certs.ca_file, session, secret="wrong").acquire_token_for_client(
        scopes=SCOPES
    )
    assert result["error"] == "invalid_client"


def test_no_token_and_an_unknown_token_are_401_invalid_authentication_token(served: ServedApp) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = httpx.get(f"{served.url}/v1.0/me/calendars", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_the_expired_token_chaos_answers_401(sim: GraphSimulator, graph: httpx.Client) -> None:
    sim.chaos.token_expired = True
    response = graph.get("/v1.0/me/calendars")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_read_only_permission_cannot_write(sim: GraphSimulator, served: ServedApp) -> None:
    sim.register_app("reader", "reader-secret", {"Calendars.Read"})
    token = fetch_token(served.url, "reader", "reader-secret")
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/v1.0/me/calendars").status_code == 200
        denied = client.post("/v1.0/me/events", json={"subject": "x"})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "ErrorAccessDenied"


def test_rate_limit_chaos_answers_429_with_retry_after(sim: GraphSimulator, graph: httpx.Client) -> None:
    sim.chaos.rate_limit_rate = 1.0
    sim.chaos.retry_after_s = 2
    response = graph.get("/v1.0/me/calendars")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"]["code"] == "TooManyRequests"
