"""Graph responses -> hub errors: the one table of the Outlook connector.

::

    status / code                    hub error            why
    401                              ConfigError          credentials rejected (after one token refresh)
    403                              PermissionDenied     the app lacks Calendars.Read / Calendars.ReadWrite
    404                              RecordNotFound
    409, 412                         PreconditionFailed   changeKey moved on (If-Match)
    410, code syncStateNotFound      CursorInvalidated    delta token expired: resync the calendar
    429, 503 with Retry-After        RateLimited          paced retry, never before Retry-After
    5xx                              TransientError
    other 4xx                        ConfigError          a request Graph refuses will not pass on retry
"""

from __future__ import annotations

from typing import Any

import httpx

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

__all__ = ["error_for", "graph_error_code"]

_DEFAULT_RETRY_AFTER_S = 5.0
_SYNC_STATE_CODES = frozenset({"syncstatenotfound", "syncstateinvalid", "resyncrequired"})


def graph_error_code(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of a Graph error body; empty strings when the body is not one."""
    try:
        body: Any = response.json()
    except ValueError:
        return "", response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    return "", str(body)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for(response: httpx.Response, *, write: bool = False) -> PasserelleError:
    """The hub error for a failed Graph response. ``write`` names the permission a 403 lacks."""
    status = response.status_code
    code, message = graph_error_code(response)
    where = f"{response.request.method} {response.request.url.path}"
    detail = f"Graph {status} {code or 'error'} on {where}: {message}"
    retry_after = _retry_after(response)
    if status == 410 or code.lower() in _SYNC_STATE_CODES:
        return CursorInvalidated(detail)
    if status == 401:
        return ConfigError(f"{detail} (check tenant_id, client_id and client_secret)")
    if status == 403:
        permission = "Calendars.ReadWrite" if write else "Calendars.Read (or Calendars.ReadWrite)"
        return PermissionDenied(
            f"{detail}: the app registration needs the application permission "
            f"{permission}, granted by an admin"
        )
    if status == 404:
        return RecordNotFound(detail)
    if status in (409, 412):
        return PreconditionFailed(detail)
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimited(detail, retry_after if retry_after is not None else _DEFAULT_RETRY_AFTER_S)
    if status >= 500:
        return TransientError(detail)
    return ConfigError(detail)
