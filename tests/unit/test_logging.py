"""Logs are structured and never carry a configured secret."""

from __future__ import annotations

import io
import json
import logging

import structlog

from app.logging import configure_logging, secret_values
from app.settings import load_settings


def test_every_log_line_is_free_of_configured_secrets() -> None:
    settings = load_settings(
        admin_token="admin-token-0123456789",
        connectors={
            "jira": {"type": "jira", "email": "a@b.c", "api_token": "jira-secret-value", "base_url": "http://x"},
        },
    )
    secrets = secret_values(settings)
    assert {"admin-token-0123456789", "jira-secret-value"} <= secrets
    out = io.StringIO()
    configure_logging("json", "DEBUG", secrets, stream=out)
    log = structlog.get_logger("test")
    log.info("connecting", token="jira-secret-value", url="http://u:jira-secret-value@x")
    logging.getLogger("httpx").warning("header Authorization: Bearer %s", "admin-token-0123456789")
    try:
        raise RuntimeError("request failed with jira-secret-value")
    except RuntimeError:
        log.exception("failed")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    for line in lines:
        json.loads(line)
        assert "jira-secret-value" not in line
        assert "admin-token-0123456789" not in line
    assert "**********" in lines[0]


def test_run_context_is_bound_to_every_line() -> None:
    out = io.StringIO()
    configure_logging("json", "INFO", (), stream=out)
    with structlog.contextvars.bound_contextvars(run_id="r1", connector="jira", stream="issues"):
        structlog.get_logger().info("page committed", records=10)
    event = json.loads(out.getvalue())
    assert (event["run_id"], event["connector"], event["stream"]) == ("r1", "jira", "issues")
