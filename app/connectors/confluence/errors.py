"""Confluence answers -> hub errors: the one table, and nowhere else.

=========  ==========================  =================================================
status     hub error                   why
=========  ==========================  =================================================
400        ConfigError                 a request we built is wrong: fix code or config
401        ConfigError                 bad, expired or revoked API token
403        PermissionDenied            the account lacks a space or page permission
404        RecordNotFound              page/space gone or invisible to the account
409        PreconditionFailed          version.number was not current + 1 (stale write)
413        SkippableRecord             one page body is too large to write
429        RateLimited                 paced: wait ``Retry-After`` (default 5 s)
5xx        TransientError              retry with backoff
network    TransientError              connection reset, timeout, DNS
=========  ==========================  =================================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from app.errors import (
    ConfigError,
    PasserelleError,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    RecordNotFound,
    SkippableRecord,
    TransientError,
)

__all__ = ["DEFAULT_RETRY_AFTER_S", "error_for_status", "translate"]

DEFAULT_RETRY_AFTER_S = 5.0

_BY_STATUS: dict[int, type[PasserelleError]] = {
    400: ConfigError,
    401: ConfigError,
    403: PermissionDenied,
    404: RecordNotFound,
    409: PreconditionFailed,
    413: SkippableRecord,
}


def _retry_after(value: str | None) -> float:
    if not value:
        return DEFAULT_RETRY_AFTER_S
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("detail") or first.get("title") or first)
        if body.get("message"):
            return str(body["message"])
    return str(body)[:300]


def error_for_status(response: requests.Response, what: str) -> PasserelleError:
    """The hub error for an error answer (status >= 400) to ``what``."""
    status = response.status_code
    message = f"confluence {what}: HTTP {status}: {_detail(response)}"
    if status == 429:
        return RateLimited(message, _retry_after(response.headers.get("Retry-After")))
    if status >= 500:
        return TransientError(message)
    return _BY_STATUS.get(status, ConfigError)(message)


def translate(exc: requests.RequestException, what: str) -> PasserelleError:
    """The hub error for an exception raised by requests / atlassian-python-api."""
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response) and response.status_code >= 400:
        return error_for_status(response, what)
    return TransientError(f"confluence {what}: {type(exc).__name__}: {exc}")
