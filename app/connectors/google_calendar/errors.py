"""Google Calendar failures -> hub errors: the one table, nowhere else.

==========================================  =====================
Google answer                               hub error
==========================================  =====================
401                                         ConfigError
403 rateLimitExceeded/userRateLimitExceeded RateLimited
403 (any other reason)                      PermissionDenied
404                                         RecordNotFound
409, 412                                    PreconditionFailed
410 ``deleted`` (the event is gone)         RecordNotFound
410 (``fullSyncRequired``: dead token)      CursorInvalidated
429                                         RateLimited
5xx                                         TransientError
other 4xx                                   ConfigError
refresh refused by the token endpoint       ConfigError
network, timeouts, retryable refresh        TransientError
==========================================  =====================
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from app.errors import (
    ConfigError,
    CursorInvalidated,
    PasserelleError,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    RecordNotFound,
    TransientError,
)

__all__ = ["DEFAULT_RETRY_AFTER_S", "map_error", "reasons_of"]

DEFAULT_RETRY_AFTER_S = 1.0
"""Wait before retrying a 429 / rate-limit 403 that carries no ``Retry-After``."""
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


def reasons_of(exc: HttpError) -> tuple[str, ...]:
    """The ``errors[].reason`` values of a Google error body."""
    details: Any = exc.error_details
    if not isinstance(details, list):
        try:
            details = json.loads(exc.content or b"{}").get("error", {}).get("errors", [])
        except (ValueError, AttributeError):
            details = []
    return tuple(str(d.get("reason")) for d in details if isinstance(d, dict) and d.get("reason"))


def _retry_after(exc: HttpError) -> float:
    value = exc.resp.get("retry-after") if exc.resp is not None else None
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_AFTER_S
    except ValueError:
        return DEFAULT_RETRY_AFTER_S


def _map_http(exc: HttpError, what: str) -> PasserelleError:
    status = int(exc.resp.status)
    reasons = reasons_of(exc)
    message = f"{what}: Google answered {status} {', '.join(reasons) or exc.reason}"
    if status == 401:
        return ConfigError(f"{message} (credentials rejected)")
    if status == 403:
        if _RATE_LIMIT_REASONS & set(reasons):
            return RateLimited(message, _retry_after(exc))
        return PermissionDenied(message)
    if status == 404:
        return RecordNotFound(message)
    if status in (409, 412):
        return PreconditionFailed(message)
    if status == 410:
        if "deleted" in reasons:
            return RecordNotFound(message)
        return CursorInvalidated(message)
    if status == 429:
        return RateLimited(message, _retry_after(exc))
    if status >= 500:
        return TransientError(message)
    return ConfigError(message)


def map_error(exc: BaseException, what: str = "google calendar") -> PasserelleError | None:
    """The hub error for ``exc``, or ``None`` when it is not a failure we know (a bug: let it rise)."""
    if isinstance(exc, PasserelleError):
        return exc
    if isinstance(exc, HttpError):
        return _map_http(exc, what)
    if isinstance(exc, auth_exceptions.RefreshError):
        if getattr(exc, "retryable", False):
            return TransientError(f"{what}: token refresh failed, will retry: {exc}")
        return ConfigError(f"{what}: token refresh refused: {exc}")
    if isinstance(exc, auth_exceptions.TransportError):
        return TransientError(f"{what}: token endpoint unreachable: {exc}")
    if isinstance(exc, auth_exceptions.DefaultCredentialsError):
        return ConfigError(f"{what}: {exc}")
    if isinstance(exc, httplib2.HttpLib2Error | TimeoutError | socket.timeout | ConnectionError | OSError):
        return TransientError(f"{what}: network error: {exc.__class__.__name__}: {exc}")
    return None
