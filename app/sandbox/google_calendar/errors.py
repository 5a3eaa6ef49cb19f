"""Google's JSON error envelope, raised from anywhere in the simulator and rendered once.

Google answers every API error as::

    {"error": {"code": 404, "message": "Not Found",
               "errors": [{"domain": "global", "reason": "notFound", "message": "Not Found"}],
               "status": "NOT_FOUND"}}
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

__all__ = ["GoogleApiError", "error_payload", "error_response"]

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}

_DEFAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    409: "duplicate",
    410: "deleted",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
}


class GoogleApiError(Exception):
    """An API error the route handlers raise; rendered by :func:`error_response`."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _DEFAULT_REASONS.get(code, "unknown")
        self.domain = domain
        self.location = location
        self.location_type = location_type


def error_payload(
    code: int,
    message: str,
    reason: str | None = None,
    *,
    domain: str = "global",
    location: str | None = None,
    location_type: str | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "domain": domain,
        "reason": reason or _DEFAULT_REASONS.get(code, "unknown"),
        "message": message,
    }
    if location is not None:
        detail["location"] = location
        detail["locationType"] = location_type or "parameter"
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [detail],
            "status": _STATUS_NAMES.get(code, "UNKNOWN"),
        }
    }


def error_response(exc: GoogleApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if exc.code == 401 else None
    return JSONResponse(
        error_payload(
            exc.code,
            exc.message,
            exc.reason,
            domain=exc.domain,
            location=exc.location,
            location_type=exc.location_type,
        ),
        status_code=exc.code,
        headers=headers,
    )
