"""The error table: each Google answer becomes the hub error the engine acts on."""

from __future__ import annotations

import json

import httplib2
import pytest
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

from app.connectors.google_calendar.errors import map_error
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


def _http_error(status: int, reason: str = "x", headers: dict[str, str] | None = None) -> HttpError:
    response = httplib2.Response({"status": str(status), **(headers or {})})
    body = {
        "error": {
            "code": status,
            "message": "m",
            "errors": [{"domain": "global", "reason": reason, "message": "m"}],
        }
    }
    return HttpError(response, json.dumps(body).encode())


@pytest.mark.parametrize(
    "status,reason,expected",
    [
        (401, "authError", ConfigError),
        (403, "rateLimitExceeded", RateLimited),
        (403, "userRateLimitExceeded", RateLimited),
        (403, "insufficientPermissions", PermissionDenied),
        (403, "forbidden", PermissionDenied),
        (404, "notFound", RecordNotFound),
        (409, "duplicate", PreconditionFailed),
        (412, "conditionNotMet", PreconditionFailed),
        (410, "fullSyncRequired", CursorInvalidated),
        (410, "updatedMinTooLongAgo", CursorInvalidated),
        (410, "deleted", RecordNotFound),
        (429, "rateLimitExceeded", RateLimited),
        (500, "backendError", TransientError),
        (503, "backendError", TransientError),
        (400, "invalid", ConfigError),
    ],
)
def test_http_errors_map_to_hub_errors(status: int, reason: str, expected: type[PasserelleError]) -> None:
    mapped = map_error(_http_error(status, reason))
    assert type(mapped) is expected


def test_rate_limits_carry_retry_after() -> None:
    mapped = map_error(_http_error(429, "rateLimitExceeded", {"retry-after": "7"}))
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 7.0
    unnamed = map_error(_http_error(403, "rateLimitExceeded"))
    assert isinstance(unnamed, RateLimited) and unnamed.retry_after > 0


def test_refresh_and_network_failures() -> None:
    assert type(map_error(RefreshError("invalid_grant"))) is ConfigError
    assert type(map_error(RefreshError("backend", retryable=True))) is TransientError
    assert type(map_error(TransportError("dns"))) is TransientError
    assert type(map_error(TimeoutError())) is TransientError
    assert type(map_error(httplib2.ServerNotFoundError("nope"))) is TransientError
    assert map_error(KeyError("bug")) is None
