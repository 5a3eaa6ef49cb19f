"""Calls to the Slack Web API through slack_sdk's asyncio client, with hub retries.

slack_sdk's ``AsyncWebClient`` runs on one aiohttp session per event loop, so calls reuse
keep-alive connections. Its blocking ``WebClient`` opens a new connection (and against
Slack a new TLS handshake) for every call, and needs a worker thread per call: a full read
makes one ``conversations.replies`` per thread, and that per-call cost doubled the read's
time on loopback (docs/benchmarks.md, fifth pass).

slack_sdk is built with ``retry_handlers=[]``: its connection-error retry and its optional
``RateLimitErrorRetryHandler`` would retry inside the SDK, invisible to our pacing, our call
counts and our logs. Instead every failure is mapped to a hub error here and
:func:`with_retries` decides: a 429 waits at least its ``Retry-After`` (never less), a 5xx
or network error backs off, anything else fails.

Calls may run concurrently (at most ``max_concurrency`` at a time): a 429 also pauses
its method for every other call of this client (:class:`MethodPauses`), checked after
a call has its slot, so a call queued behind the limit cannot go out during the pause.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from app.connectors.common import RetryPolicy, count_call, with_retries
from app.connectors.slack.errors import hub_error
from app.connectors.slack.pacing import MethodPauses
from app.errors import RateLimited, TransientError
from app.settings import SlackSettings

__all__ = ["SlackAnswer", "SlackClient"]

SLACK_API = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackAnswer:
    data: dict[str, Any]
    headers: Mapping[str, str]
    """Lower-case header names."""


class SlackClient:
    def __init__(self, settings: SlackSettings, policy: RetryPolicy | None = None) -> None:
        base = (settings.base_url or SLACK_API).rstrip("/") + "/"
        if not base.endswith("/api/"):
            base += "api/"
        context = ssl.create_default_context(cafile=str(settings.ca_file)) if settings.ca_file else None
        self._web = AsyncWebClient(token=settings.bot_token.get_secret_value(), base_url=base,
                                   timeout=int(settings.timeout_s), ssl=context, retry_handlers=[])
        self._timeout_s = settings.timeout_s
        self._max_concurrency = settings.max_concurrency
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._policy = policy or RetryPolicy()
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self.pauses = MethodPauses(sleep=self._policy.sleep)
        self._calls = 0

    async def aclose(self) -> None:
        """Close the connections held open for later calls."""
        session, self._web.session = self._web.session, None
        if session is not None and self._session_loop is asyncio.get_running_loop():
            await session.close()
        self._session_loop = None

    def _use_loop_session(self) -> None:
        """Give slack_sdk the keep-alive session of the running event loop (an aiohttp session
        serves one loop)."""
        loop = asyncio.get_running_loop()
        session = self._web.session
        if session is None or session.closed or self._session_loop is not loop:
            # A session opened in another loop cannot be closed from this one; its connections
            # close with that loop. slack_sdk applies its own timeout only to sessions it makes.
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                connector=aiohttp.TCPConnector(limit=self._max_concurrency),
            )
            self._web.session, self._session_loop = session, loop

    @property
    def calls(self) -> int:
        """Vendor requests made so far, retries included."""
        return self._calls

    async def call(self, method: str, **params: Any) -> SlackAnswer:
        """Call ``method`` with form arguments (reads); raises hub errors only."""
        args = {k: _form_value(v) for k, v in params.items() if v is not None}
        return await with_retries(lambda: self._attempt(method, args, False), self._policy,
                                  what=f"slack {method}")

    async def write(
        self, method: str, *, recover: Callable[[], Awaitable[SlackAnswer | None]] | None = None, **body: Any
    ) -> SlackAnswer:
        """Call ``method`` with a JSON body (writes: ``metadata`` and ``blocks`` stay structured).

        Before each retry, ``recover`` may find what an attempt whose answer was lost already did
        (a 5xx or a timeout can come after Slack has posted): its answer then ends the call."""
        args = {k: v for k, v in body.items() if v is not None}
        attempts = 0

        async def attempt() -> SlackAnswer:
            nonlocal attempts
            attempts += 1
            if attempts > 1 and recover is not None:
                found = await recover()
                if found is not None:
                    return found
            return await self._attempt(method, args, True)

        return await with_retries(attempt, self._policy, what=f"slack {method}")

    async def _attempt(self, method: str, args: dict[str, Any], as_json: bool) -> SlackAnswer:
        """One request, once its method is not paused."""
        async with self._slots:
            await self.pauses.wait(method)
            self._calls += 1
            count_call()
            try:
                return await self._send(method, args, as_json)
            except RateLimited as exc:
                self.pauses.pause(method, exc.retry_after)
                raise

    async def _send(self, method: str, args: dict[str, Any], as_json: bool) -> SlackAnswer:
        self._use_loop_session()
        try:
            if as_json:
                response = await self._web.api_call(method, json=args)
            else:
                response = await self._web.api_call(_with_query(method, args))
        except SlackApiError as exc:
            answer = exc.response
            data = answer.data if isinstance(answer.data, dict) else {}
            raise hub_error(answer.status_code, data, _lower(answer.headers)) from exc
        except (aiohttp.ClientError, TimeoutError, ConnectionError, SlackRequestError) as exc:
            raise TransientError(f"slack {method}: {exc or type(exc).__name__}") from exc
        data = response.data if isinstance(response.data, dict) else {}
        return SlackAnswer(data, _lower(response.headers))


def _lower(headers: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.items():
        out[str(key).lower()] = str(value[0] if isinstance(value, list) and value else value)
    return out


def _with_query(method: str, args: dict[str, Any]) -> str:
    """``method`` with its arguments as a query string (the token stays in the Authorization header).

    Slack takes arguments "as GET querystring parameters, POST form parameters, or a mix of
    both". In the query string every read names what it asked for wherever requests are
    logged: concurrent ``conversations.replies`` calls stay distinguishable from a retry,
    and a logged request can be replayed as it was sent. slack_sdk joins the method to its
    base URL, so the query string passes through.
    """
    return f"{method}?{urlencode(args)}" if args else method


def _form_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
