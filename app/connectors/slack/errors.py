"""Slack's error strings -> hub errors: the one table, and the function that applies it.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "<code>"}``;
rate limiting is HTTP 429 with ``Retry-After``; server trouble is a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.errors import (
    ConfigError,
    CursorInvalidated,
    PasserelleError,
    PermissionDenied,
    RateLimited,
    RecordNotFound,
    TransientError,
)

__all__ = ["ERRORS", "hub_error", "retry_after_of"]

_Factory = Callable[[str, Mapping[str, Any], Mapping[str, str]], PasserelleError]


def _config(code: str, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    return ConfigError(f"slack refused the token: {code}")


def _scope(code: str, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    needed = data.get("needed") or headers.get("x-accepted-oauth-scopes", "")
    return PermissionDenied(f"slack token lacks the scope {needed!r} ({code})" if needed
                            else f"slack refused: {code}")


def _denied(code: str, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    return PermissionDenied(f"slack refused: {code}")


def _missing(code: str, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    return RecordNotFound(f"slack: {code}")


def _paced(code: str, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    return RateLimited(f"slack: {code}", retry_after_of(headers))


def _transient(code: str, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    return TransientError(f"slack: {code}")


def _cursor(code: str, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    return CursorInvalidated(f"slack: {code}")


ERRORS: dict[str, _Factory] = {
    "invalid_auth": _config,
    "not_authed": _config,
    "token_revoked": _config,
    "token_expired": _config,
    "account_inactive": _config,
    "org_login_required": _config,
    "missing_scope": _scope,
    "not_allowed_token_type": _denied,
    "no_permission": _denied,
    "not_in_channel": _denied,
    "restricted_action": _denied,
    "cant_update_message": _denied,
    "cant_delete_message": _denied,
    "ekm_access_denied": _denied,
    "channel_not_found": _missing,
    "message_not_found": _missing,
    "thread_not_found": _missing,
    "user_not_found": _missing,
    "ratelimited": _paced,
    "rate_limited": _paced,
    "internal_error": _transient,
    "fatal_error": _transient,
    "service_unavailable": _transient,
    "request_timeout": _transient,
    "invalid_cursor": _cursor,
}


def retry_after_of(headers: Mapping[str, str]) -> float:
    try:
        return max(0.0, float(headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def hub_error(status: int, data: Mapping[str, Any], headers: Mapping[str, str]) -> PasserelleError:
    """The hub error for one failed answer; ``headers`` keys are lower-case."""
    code = str(data.get("error") or "")
    if status == 429:
        return _paced(code or "ratelimited", data, headers)
    factory = ERRORS.get(code)
    if factory is not None:
        return factory(code, data, headers)
    if status >= 500:
        return TransientError(f"slack answered HTTP {status}: {code or 'no error code'}")
    # An error we do not know is a request we got wrong: report it as a bug, loudly.
    return PasserelleError(f"slack error {code or 'unknown'} (HTTP {status})")
