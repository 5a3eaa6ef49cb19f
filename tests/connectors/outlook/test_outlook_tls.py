"""Against an HTTPS Graph (the sandbox with its own CA) the connector gets its token through MSAL."""

from __future__ import annotations

from pathlib import Path

from outlook_helpers import settings_for

from app.connectors.outlook import OutlookConnector
from app.connectors.outlook.auth import MsalTokens
from app.sandbox.common import serve_in_thread
from app.sandbox.graph import GraphSimulator
from app.sandbox.tls import make_certificates


async def test_msal_client_credentials_over_https_with_the_sandbox_ca(tmp_path: Path) -> None:
    sim = GraphSimulator()
    certs = make_certificates(tmp_path)
    served = serve_in_thread(sim.app, certfile=certs.cert_file, keyfile=certs.key_file)
    try:
        async with OutlookConnector("outlook", settings_for(served.url, ca_file=certs.ca_file)) as conn:
            assert isinstance(conn.client.tokens, MsalTokens)
            result = await conn.check()
            assert result.ok, result.detail
            assert len(await conn.list_partitions("events")) == 2
        assert sim.issuer.issued == 1
    finally:
        served.stop()
