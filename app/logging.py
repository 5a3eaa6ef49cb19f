"""Structured logging: JSON in service mode, readable on a terminal, secrets never printed.

Context for a run (run id, pair, connector, stream, partition) is bound through
``structlog.contextvars`` by the engine. :func:`configure_logging` installs a
processor that replaces every configured secret value with ``**********`` in any
log field, so a secret that leaks into an exception message is still redacted.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, Literal

import structlog
from pydantic import SecretStr

__all__ = ["SecretRedactor", "configure_logging", "secret_values"]

REDACTED = "**********"


def secret_values(obj: Any) -> set[str]:
    """Every ``SecretStr`` value reachable in a (settings) object, for the redactor."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if len(secret) >= 4:
                found.add(secret)
        elif hasattr(value, "__pydantic_fields__"):
            for name in type(value).__pydantic_fields__:
                walk(getattr(value, name, None))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(obj)
    return found


class SecretRedactor:
    """A structlog processor replacing known secret values anywhere in an event's strings."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._scrub(v) for v in value)
        if isinstance(value, BaseException | SecretStr):
            return self._scrub(str(value)) if not isinstance(value, SecretStr) else REDACTED
        return value

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if not self._secrets:
            return event
        return {k: self._scrub(v) for k, v in event.items()}


def configure_logging(
    fmt: Literal["auto", "json", "console"] = "auto",
    level: str = "INFO",
    secrets: Iterable[str] = (),
    stream: Any = None,
) -> None:
    """Set up structlog and the stdlib root logger (uvicorn, apscheduler) with one pipeline."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    redactor = SecretRedactor(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redactor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-request lines from the HTTP client and job bookkeeping drown the hub's own events.
    for noisy in ("httpx", "httpcore", "apscheduler", "jira", "alembic", "googleapiclient.discovery"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
