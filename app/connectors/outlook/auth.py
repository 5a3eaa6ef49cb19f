"""Client-credentials tokens for Graph, one acquisition at a time.

With an ``https`` authority (Entra ID, or the sandbox served with ``--tls``) MSAL does the
work: it caches the token and refreshes it before expiry. MSAL refuses plain-``http``
authorities, so for the loopback sandbox without TLS the same grant is posted directly.
Either way, concurrent callers share one acquisition (an ``asyncio.Lock``) and the
current token is replaced as a whole (one tuple), so nobody reads a half-written token.
"""

from __future__ import annotations

import abc
import asyncio
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
import msal
import requests

from app.errors import ConfigError, TransientError

__all__ = ["GRAPH_SCOPE", "TokenProvider", "make_token_provider"]

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
_EARLY_REFRESH_S = 120.0


class TokenProvider(Protocol):
    async def token(self, *, force_refresh: bool = False) -> str: ...

    async def aclose(self) -> None: ...

    @property
    def acquisitions(self) -> int: ...


class _CachedToken(abc.ABC):
    """Shared lock and atomic storage; subclasses implement ``_acquire`` (blocking or not)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._current: tuple[str, float] | None = None  # (token, monotonic expiry): replaced whole
        self.acquisitions = 0

    async def token(self, *, force_refresh: bool = False) -> str:
        current = self._current
        if current is not None and not force_refresh and current[1] > time.monotonic():
            return current[0]
        async with self._lock:
            latest = self._current
            # Another caller refreshed while we waited: use its token.
            if latest is not None and latest is not current and latest[1] > time.monotonic():
                return latest[0]
            value, lifetime = await self._acquire(force_refresh)
            self.acquisitions += 1
            self._current = (value, time.monotonic() + max(0.0, lifetime - _EARLY_REFRESH_S))
            return value

    @abc.abstractmethod
    async def _acquire(self, force_refresh: bool) -> tuple[str, float]:
        """A fresh (token, lifetime in seconds) from the identity provider."""

    async def aclose(self) -> None:
        return None


def _refused(error: str, description: str) -> ConfigError:
    return ConfigError(f"Entra ID refused the client-credentials grant: {error}: {description}")


class MsalTokens(_CachedToken):
    def __init__(
        self, authority: str, client_id: str, secret: str, ca_file: Path | None, timeout_s: float
    ) -> None:
        super().__init__()
        self._session = requests.Session()
        if ca_file is not None:
            self._session.verify = str(ca_file)
            # requests lets REQUESTS_CA_BUNDLE override a session's ``verify``: ignore the environment.
            self._session.trust_env = False
        self._args = (authority, client_id, secret, timeout_s)
        self._app: msal.ConfidentialClientApplication | None = None

    def _blocking_acquire(self, force_refresh: bool) -> dict[str, Any]:
        authority, client_id, secret, timeout_s = self._args
        if self._app is None:
            self._app = msal.ConfidentialClientApplication(
                client_id,
                client_credential=secret,
                authority=authority,
                http_client=self._session,
                timeout=timeout_s,
                # Custom hosts (the sandbox, sovereign clouds given explicitly) are trusted as configured.
                validate_authority=False,
                instance_discovery=False,
            )
        if force_refresh:
            for cached in list(self._app.token_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                self._app.token_cache.remove_at(cached)
        result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        return result

    async def _acquire(self, force_refresh: bool) -> tuple[str, float]:
        try:
            result = await asyncio.to_thread(self._blocking_acquire, force_refresh)
        except (requests.RequestException, OSError) as exc:
            raise TransientError(f"token endpoint unreachable: {exc}") from exc
        except ValueError as exc:  # MSAL: authority / OIDC discovery failed
            raise ConfigError(f"Entra ID authority is not usable: {exc}") from exc
        if "access_token" not in result:
            raise _refused(str(result.get("error")), str(result.get("error_description", ""))[:300])
        return str(result["access_token"]), float(result.get("expires_in", 3599))

    async def aclose(self) -> None:
        self._session.close()


class DirectTokens(_CachedToken):
    """The client-credentials grant over plain HTTP: only for a loopback sandbox."""

    def __init__(self, authority: str, client_id: str, secret: str, http: httpx.AsyncClient) -> None:
        super().__init__()
        self._url = f"{authority}/oauth2/v2.0/token"
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": GRAPH_SCOPE,
        }
        self._http = http

    async def _acquire(self, force_refresh: bool) -> tuple[str, float]:
        try:
            response = await self._http.post(self._url, data=self._form)
        except httpx.HTTPError as exc:
            raise TransientError(f"token endpoint unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise TransientError(f"token endpoint answered {response.status_code}")
        body = response.json()
        if response.status_code != 200 or "access_token" not in body:
            raise _refused(str(body.get("error")), str(body.get("error_description", ""))[:300])
        return str(body["access_token"]), float(body.get("expires_in", 3599))


def make_token_provider(
    authority_url: str,
    tenant_id: str,
    client_id: str,
    secret: str,
    ca_file: Path | None,
    timeout_s: float,
    http: httpx.AsyncClient,
) -> TokenProvider:
    authority = f"{authority_url.rstrip('/')}/{tenant_id}"
    if authority.startswith("https://"):
        return MsalTokens(authority, client_id, secret, ca_file, timeout_s)
    host = httpx.URL(authority).host
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(
            f"authority_url must be https (got {authority_url}); plain http is only for a loopback sandbox"
        )
    return DirectTokens(authority, client_id, secret, http)
