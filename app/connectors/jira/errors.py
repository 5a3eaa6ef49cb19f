"""Jira failures -> hub errors, in one table.

=====================================  ===========================================
Jira answer                            hub error
=====================================  ===========================================
401                                    ``ConfigError`` (credentials refused)
403                                    ``PermissionDenied``
400                                    ``ConfigError`` (bad JQL, bad field value)
404                                    ``RecordNotFound``
409, 412                               ``PreconditionFailed`` (edit conflict)
429                                    ``RateLimited`` (``Retry-After``, default 5 s)
408, 5xx, network errors, timeouts     ``TransientError``
any other 4xx                          ``ConfigError``
=====================================  ===========================================
"""

from __future__ import annotations

from typing import Any

import requests

from app.errors import (
    ConfigError,
    PasserelleError,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    RecordNotFound,
    TransientError,
)
from jira import JIRAError

__all__ = ["DEFAULT_RETRY_AFTER_S", "from_jira_error", "from_status", "is_vendor_failure"]

DEFAULT_RETRY_AFTER_S = 5.0


def _retry_after(headers: Any) -> float:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_AFTER_S
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S


def from_status(status: int | None, detail: str, headers: Any = None) -> PasserelleError:
    """The hub error for an HTTP ``status`` (``None``: no answer at all)."""
    if status is None or status == 408 or status >= 500:
        return TransientError(f"Jira unavailable ({status or 'no response'}): {detail}")
    if status == 429:
        reason = headers.get("RateLimit-Reason") if headers is not None else None
        suffix = f" [{reason}]" if reason else ""
        return RateLimited(f"Jira rate limit{suffix}: {detail}", _retry_after(headers))
    if status == 401:
        return ConfigError(f"Jira refused the credentials (401): {detail}")
    if status == 403:
        return PermissionDenied(f"Jira denied access (403): {detail}")
    if status == 404:
        return RecordNotFound(f"Jira: not found (404): {detail}")
    if status in (409, 412):
        return PreconditionFailed(f"Jira refused a conflicting write ({status}): {detail}")
    return ConfigError(f"Jira refused the request ({status}): {detail}")


def is_vendor_failure(exc: BaseException) -> bool:
    return isinstance(exc, JIRAError | requests.RequestException)


def from_jira_error(exc: BaseException, what: str) -> PasserelleError:
    """Map an exception raised by the ``jira`` SDK (or by ``requests`` under it)."""
    if isinstance(exc, JIRAError):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        return from_status(exc.status_code, f"{what}: {exc.text or ''}".strip(), headers)
    if isinstance(exc, requests.RequestException):
        return TransientError(f"Jira unreachable during {what}: {exc.__class__.__name__}: {exc}")
    raise TypeError(f"not a Jira failure: {exc!r}")
