"""The Calendar API via googleapiclient: static discovery, our base URL, shared credentials, worker threads.

googleapiclient and httplib2 are blocking and an ``httplib2.Http`` is not thread-safe, so each
worker thread gets its own ``AuthorizedHttp`` over one shared :class:`SharedCredentials`:
one token refresh at a time, and the new token and its expiry are swapped together under
the lock. Calls go through ``BlockingCalls`` (bounded concurrency) and ``with_retries``
(googleapiclient's own retries stay off: ``num_retries=0``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from typing import Any

import google.auth.credentials
import google_auth_httplib2
import httplib2
import orjson
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.model import JsonModel

from app.connectors.common import BlockingCalls, RetryPolicy, with_retries
from app.connectors.google_calendar.errors import map_error
from app.errors import ConfigError
from app.settings import GoogleCalendarSettings

__all__ = [
    "CALENDAR_SCOPE",
    "RESOURCES",
    "CalendarClient",
    "OrjsonModel",
    "RequestFactory",
    "SharedCredentials",
    "credentials_from_settings",
]

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

RESOURCES = ("calendarList", "channels", "events")
"""The service's resource collections the connector calls."""

RequestFactory = Callable[[Mapping[str, Any]], Any]
"""Builds a googleapiclient ``HttpRequest`` from the resource collections by name
(``lambda r: r["events"].list(...)``)."""

_WIDE_INTEGER = b"0" * 20
_DIGITS_TO_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))


class OrjsonModel(JsonModel):  # type: ignore[misc]  # googleapiclient has no type hints
    """googleapiclient's JSON model, decoding response bodies with orjson (a full read decodes
    every event: ~5 us an event, the digit check included, against ~7 with the standard library).

    The standard library still decodes what orjson would read differently or refuses: a body
    with a run of 20 digits (orjson turns integers beyond 64 bits into floats), non-standard
    JSON (``NaN``), lone surrogates, a non-JSON body (kept as text), invalid UTF-8 (raises).
    """

    def deserialize(self, content: Any) -> Any:
        if isinstance(content, bytes) and not self._data_wrapper and not _holds_a_wide_number(content):
            try:
                return orjson.loads(content)
            except orjson.JSONDecodeError:
                pass
        return super().deserialize(content)


def _holds_a_wide_number(content: bytes) -> bool:
    """True when 20 digits follow each other anywhere (strings included: a false alarm only costs time)."""
    return _WIDE_INTEGER in content.translate(_DIGITS_TO_ZEROS)


def credentials_from_settings(settings: GoogleCalendarSettings) -> google.auth.credentials.Credentials:
    """Service account file, else refresh token (+ client id/secret), else a bare access token."""
    token_uri = settings.token_uri or GOOGLE_TOKEN_URI
    if settings.service_account_file is not None:
        try:
            loaded: google.auth.credentials.Credentials = (
                service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    str(settings.service_account_file), scopes=[CALENDAR_SCOPE]
                )
            )
            return loaded
        except (OSError, ValueError) as exc:
            raise ConfigError(f"service_account_file: {exc}") from exc
    access = settings.access_token.get_secret_value() if settings.access_token else None
    if settings.refresh_token is not None:
        if not settings.client_id or settings.client_secret is None:
            raise ConfigError("refresh_token needs client_id and client_secret")
        return user_credentials.Credentials(  # type: ignore[no-untyped-call]
            token=access,
            refresh_token=settings.refresh_token.get_secret_value(),
            token_uri=token_uri,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
        )
    if access:
        return user_credentials.Credentials(token=access)  # type: ignore[no-untyped-call]
    raise ConfigError("set service_account_file, refresh_token (+ client_id, client_secret) or access_token")


class SharedCredentials:
    """google-auth credentials shared by worker threads; the duck type ``AuthorizedHttp`` needs.

    A thread that got a 401 refreshes only if nobody refreshed since it read the token, so a
    burst of 401s costs one refresh.
    """

    def __init__(self, inner: google.auth.credentials.Credentials) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._seen = threading.local()
        self.refreshes = 0

    @property
    def token(self) -> str | None:
        with self._lock:
            token: str | None = self._inner.token
            return token

    def before_request(self, request: Any, method: str, url: str, headers: dict[str, str]) -> None:
        with self._lock:
            if not self._inner.valid:
                self._refresh_locked(request)
            token = self._inner.token
        self._seen.token = token
        headers["authorization"] = f"Bearer {token}"

    def refresh(self, request: Any) -> None:
        with self._lock:
            if self._inner.token is not None and self._inner.token != getattr(self._seen, "token", None):
                return  # another thread already replaced the token this request used
            self._refresh_locked(request)

    def _refresh_locked(self, request: Any) -> None:
        self._inner.refresh(request)  # type: ignore[no-untyped-call]
        self.refreshes += 1


class CalendarClient:
    def __init__(self, settings: GoogleCalendarSettings, *, retry_policy: RetryPolicy | None = None) -> None:
        self._settings = settings
        self._retry_policy = retry_policy or RetryPolicy()
        self._blocking = BlockingCalls(settings.max_concurrency)
        self._local = threading.local()
        self._https: list[google_auth_httplib2.AuthorizedHttp] = []
        self._https_lock = threading.Lock()
        self.credentials: SharedCredentials | None = None
        self._resources: dict[str, Any] | None = None

    @property
    def calls(self) -> int:
        """Vendor requests attempted (retries included)."""
        return self._blocking.calls

    async def open(self) -> None:
        self.credentials = SharedCredentials(credentials_from_settings(self._settings))
        self._resources = await asyncio.to_thread(self._build)  # reads the bundled discovery JSON

    def _build(self) -> dict[str, Any]:
        options = {"api_endpoint": self._settings.base_url} if self._settings.base_url else None
        # The build needs an http object; every request runs on its thread's own one (``execute(http=)``).
        service = build(
            "calendar",
            "v3",
            http=httplib2.Http(),
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
            model=OrjsonModel(),  # the Calendar API has no data wrapper (no "dataWrapper" feature)
        )
        # ``service.events()`` builds every method of the collection from the discovery document
        # (~1 ms); built once here, a collection only reads its own state when it makes a request,
        # so worker threads share it.
        return {name: getattr(service, name)() for name in RESOURCES}

    def close(self) -> None:
        with self._https_lock:
            for http in self._https:
                http.close()
            self._https.clear()

    def _thread_http(self) -> google_auth_httplib2.AuthorizedHttp:
        http = getattr(self._local, "http", None)
        if http is None:
            ca = str(self._settings.ca_file) if self._settings.ca_file else None
            raw = httplib2.Http(timeout=self._settings.timeout_s, ca_certs=ca)
            http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=raw)
            self._local.http = http
            with self._https_lock:
                self._https.append(http)
        return http

    def _execute(self, factory: RequestFactory, headers: dict[str, str] | None) -> Any:
        assert self._resources is not None  # call() checked
        request = factory(self._resources)
        if headers:
            request.headers.update(headers)
        try:
            return request.execute(http=self._thread_http(), num_retries=0)
        except Exception as exc:
            mapped = map_error(exc)
            if mapped is None or mapped is exc:
                raise
            raise mapped from exc

    async def call(
        self, factory: RequestFactory, *, headers: dict[str, str] | None = None, what: str = "google calendar"
    ) -> Any:
        """Run one API request in a worker thread, retried per the policy; raises only hub errors."""
        if self._resources is None:
            raise RuntimeError("CalendarClient used before open()")

        async def attempt() -> Any:
            return await self._blocking.run(self._execute, factory, headers)

        return await with_retries(attempt, self._retry_policy, what=what)
