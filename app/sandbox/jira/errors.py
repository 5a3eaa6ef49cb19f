"""Jira's error shape: ``{"errorMessages": [...], "errors": {field: message}}``."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

__all__ = ["JiraApiError", "error_response"]


class JiraApiError(Exception):
    """Raised by a route; answered with Jira's error body and ``status``."""

    def __init__(
        self,
        status: int,
        *messages: str,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(messages[0] if messages else str(errors))
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}
        self.headers = headers or {}


def error_response(
    status: int,
    messages: list[str],
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"errorMessages": messages, "errors": errors or {}}
    return JSONResponse(body, status_code=status, headers=headers)
