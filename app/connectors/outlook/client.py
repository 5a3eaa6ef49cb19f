"""The HTTP side of the Outlook connector: Graph calls with a bearer token, bounded and paced.

- at most ``max_concurrency`` requests in flight (Graph allows about 4 per mailbox);
- a 401 refreshes the token once and repeats the call; a second 401 is a ``ConfigError``;
- every failure is mapped by :func:`errors.error_for`, then retried by ``with_retries``
  when safe: ``RateLimited`` always (the call was not served), ``TransientError`` only
  for idempotent calls (reads, creates carrying a ``transactionId``);
- ``calls`` counts the requests sent, for ``Page.api_calls``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from app.connectors.common import RetryPolicy, count_call, with_retries
from app.connectors.outlook.auth import TokenProvider, make_token_provider
from app.connectors.outlook.errors import error_for
from app.errors import RateLimited, TransientError

__all__ = ["MAX_CONCURRENCY_PER_MAILBOX", "GraphClient"]

MAX_CONCURRENCY_PER_MAILBOX = 4
_RETRIED_STATUSES = frozenset({401})


class GraphClient:
    def __init__(
        self,
        base_url: str,
        authority_url: str,
        tenant_id: str,
        client_id: str,
        secret: str,
        *,
        max_concurrency: int = 4,
        timeout_s: float = 30.0,
        ca_file: Path | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        root = base_url.rstrip("/").removesuffix("/v1.0")
        verify: bool | str = str(ca_file) if ca_file else True
        self.http = httpx.AsyncClient(
            base_url=f"{root}/v1.0", timeout=timeout_s, verify=verify, headers={"Accept": "application/json"}
        )
        self.tokens: TokenProvider = make_token_provider(
            authority_url, tenant_id, client_id, secret, ca_file, timeout_s, self.http
        )
        self._slots = asyncio.Semaphore(min(max_concurrency, MAX_CONCURRENCY_PER_MAILBOX))
        self._retry = retry or RetryPolicy()
        self.calls = 0

    async def aclose(self) -> None:
        await self.tokens.aclose()
        await self.http.aclose()

    async def _send_once(
        self, method: str, url: str, headers: dict[str, str], json: Any, params: dict[str, str] | None
    ) -> httpx.Response:
        async with self._slots:
            for attempt in range(2):
                token = await self.tokens.token(force_refresh=attempt > 0)
                self.calls += 1
                count_call()
                try:
                    response = await self.http.request(
                        method,
                        url,
                        headers={**headers, "Authorization": f"Bearer {token}"},
                        json=json,
                        params=params,
                    )
                except httpx.TimeoutException as exc:
                    raise TransientError(f"Graph timed out on {method} {url}") from exc
                except httpx.HTTPError as exc:
                    raise TransientError(f"Graph unreachable on {method} {url}: {exc}") from exc
                if response.status_code not in _RETRIED_STATUSES or attempt == 1:
                    return response
            raise AssertionError("unreachable")

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> httpx.Response:
        """Send one Graph call (``url`` relative to ``/v1.0`` or absolute, e.g. a nextLink).

        Raises hub errors only. ``idempotent`` defaults to true for GET.
        """
        safe = method == "GET" if idempotent is None else idempotent
        write = method != "GET"

        async def call() -> httpx.Response:
            response = await self._send_once(method, url, headers or {}, json, params)
            if response.status_code in ok:
                return response
            raise error_for(response, write=write)

        async def paced_or_safe() -> httpx.Response:
            try:
                return await call()
            except RateLimited:
                raise
            except TransientError as exc:
                if safe:
                    raise
                raise _NotRetried(exc) from exc

        try:
            return await with_retries(paced_or_safe, self._retry, what=f"graph {method}")
        except _NotRetried as wrapped:
            raise wrapped.error from wrapped.error.__cause__


class _NotRetried(Exception):
    """Carries a transient error of a non-idempotent call past the retry loop."""

    def __init__(self, error: TransientError) -> None:
        super().__init__(str(error))
        self.error = error
