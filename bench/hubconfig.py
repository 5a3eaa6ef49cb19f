"""The hub's configuration for a benchmark: connectors at the sandbox, a fresh database.

SQLite: a file in the run's temporary directory. PostgreSQL: a private schema on the
server at ``PASSERELLE_BENCH_POSTGRES_URL`` (default ``127.0.0.1:5432/test``, user
postgres), selected with ``options=-csearch_path=<schema>`` and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.payloads import JIRA_WEBHOOK_SECRET, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET
from bench.procs import SandboxProcess

__all__ = ["POSTGRES_URL", "database", "write_config"]

POSTGRES_URL = os.environ.get(
    "PASSERELLE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

PAIRS: dict[str, dict[str, Any]] = {
    "jira-issues": {"source": {"connector": "jira", "stream": "issues"}},
    "slack-messages": {"source": {"connector": "slack", "stream": "messages"}},
    "google-events": {"source": {"connector": "google", "stream": "events"}},
}


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh, empty database URL of ``kind`` (``sqlite`` or ``postgres``)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'hub-{uuid.uuid4().hex[:8]}.db'}"
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    raw = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def write_config(
    path: Path,
    sandbox: SandboxProcess,
    database_url: str,
    *,
    pairs: Sequence[str] = (),
    interval_s: float = 86_400.0,
    log_level: str = "INFO",
) -> Path:
    """Write a hub config for ``sandbox``; ``pairs`` (ids of :data:`PAIRS`) run every ``interval_s``."""
    google = sandbox.vendor_url("google_calendar")
    config: dict[str, Any] = {
        "data_dir": str(path.parent / "data"),
        "database_url": database_url,
        "log": {"format": "json", "level": log_level},
        "sync": {"default_interval_s": interval_s},
        "connectors": {
            "jira": {
                "type": "jira", "base_url": sandbox.vendor_url("jira"), "email": "amelie@orbit.example",
                "api_token": "sandbox-jira-api-token", "projects": ["CHK"],
                "webhook_secret": JIRA_WEBHOOK_SECRET,
            },
            "slack": {
                "type": "slack", "base_url": sandbox.vendor_url("slack"), "bot_token": SLACK_BOT_TOKEN,
                "signing_secret": SLACK_SIGNING_SECRET,
            },
            "google": {
                "type": "google_calendar", "base_url": google, "token_uri": f"{google}/token",
                "access_token": "ya29.sandbox-google-calendar",
                "refresh_token": "1//sandbox-google-calendar-refresh",
                "client_id": "sandbox.apps.googleusercontent.com", "client_secret": "sandbox-client-secret",
                "channel_token": "bench-google-channel-token",
            },
        },
        "pairs": [{"id": p, "interval_s": interval_s, **PAIRS[p]} for p in pairs],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
