"""The hub's exceptions: one root, each class named for what the caller should do.

::

    PasserelleError
    ├── ConfigError              fix configuration or credentials; never retried (401/403/400, missing scope)
    │   └── PermissionDenied     the credentials lack a scope or a permission
    ├── TransientError           retry later with backoff (5xx, network, timeouts)
    │   └── RateLimited          retry, but never before ``retry_after`` seconds
    ├── CursorInvalidated        the partition's cursor is dead: resync that partition fully
    ├── PreconditionFailed       a write saw a different version than it expected
    ├── RecordNotFound           the named record does not exist at the source
    ├── SkippableRecord          one record cannot be mapped; skip it and count it as failed
    └── WebhookRejected          a delivery failed verification; answer ``status_code``, write nothing

Anything else escaping a connector or the engine is a bug and is reported with the
error class ``internal``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ConfigError",
    "CursorInvalidated",
    "ErrorClass",
    "PasserelleError",
    "PermissionDenied",
    "PreconditionFailed",
    "RateLimited",
    "RecordNotFound",
    "SkippableRecord",
    "TransientError",
    "WebhookRejected",
    "classify",
]


class ErrorClass(StrEnum):
    """How a failed run is reported to an admin."""

    CONFIG = "config"
    TRANSIENT = "transient"
    INTERNAL = "internal"


class PasserelleError(Exception):
    """Root of every error the hub raises on purpose."""

    error_class: ErrorClass = ErrorClass.INTERNAL


class ConfigError(PasserelleError):
    """Configuration or credentials are wrong; retrying will not help."""

    error_class = ErrorClass.CONFIG


class PermissionDenied(ConfigError):
    """The credentials are valid but lack a scope or permission."""


class TransientError(PasserelleError):
    """A temporary failure (5xx, network); the operation may be retried."""

    error_class = ErrorClass.TRANSIENT


class RateLimited(TransientError):
    """The vendor asked us to slow down; retry no earlier than ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CursorInvalidated(PasserelleError):
    """The stored cursor of a partition can no longer be used (Google 410, Graph syncStateNotFound)."""

    error_class = ErrorClass.TRANSIENT


class PreconditionFailed(PasserelleError):
    """A conditional write found another version than ``if_version``."""

    error_class = ErrorClass.TRANSIENT


class RecordNotFound(PasserelleError):
    """The record does not exist at the source (or no longer does)."""

    error_class = ErrorClass.TRANSIENT


class SkippableRecord(PasserelleError):
    """A single record cannot be processed; the rest of the page goes on."""

    error_class = ErrorClass.INTERNAL


class WebhookRejected(PasserelleError):
    """A webhook delivery failed verification; the HTTP answer is ``status_code``."""

    error_class = ErrorClass.CONFIG

    def __init__(self, reason: str, status_code: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


def classify(exc: BaseException) -> ErrorClass:
    """The error class an admin sees for ``exc``: unknown exceptions are internal bugs."""
    if isinstance(exc, PasserelleError):
        return exc.error_class
    if isinstance(exc, TimeoutError | ConnectionError):
        return ErrorClass.TRANSIENT
    return ErrorClass.INTERNAL
