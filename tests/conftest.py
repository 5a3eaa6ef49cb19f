"""Shared fixtures: stores on SQLite and PostgreSQL, a fixed clock, the sandbox world."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog

if TYPE_CHECKING:
    from app.storage import SqlStore

POSTGRES_URL = os.environ.get(
    "PASSERELLE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suites check the sandbox against the vendors' published specs: without them, say where
    they were looked for instead of failing a hundred tests with a bare FileNotFoundError."""
    from tests.vendor_specs import VENDOR_SPECS

    if not VENDOR_SPECS.is_dir():
        pytest.exit(
            f"vendor specs not found at {VENDOR_SPECS}: clone the repository beside shared/ "
            "(../shared/vendor-specs) or set PASSERELLE_VENDOR_SPECS to their directory",
            returncode=4,
        )


def postgres_available() -> bool:
    import psycopg

    url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test server's URL; skips only when no server exists and it is not required."""
    if not postgres_available():
        if os.environ.get("PASSERELLE_REQUIRE_POSTGRES"):
            pytest.fail(f"PASSERELLE_REQUIRE_POSTGRES is set but PostgreSQL is unreachable at {POSTGRES_URL}")
        pytest.skip("no PostgreSQL server (set PASSERELLE_REQUIRE_POSTGRES=1 to make this a failure)")
    return POSTGRES_URL


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A private schema on the PostgreSQL server for one test, dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    raw = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated store on SQLite (a file in ``tmp_path``) and on PostgreSQL (a private schema)."""
    from app.storage import create_store

    url = f"sqlite:///{tmp_path / 'hub.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    store = create_store(str(url), migrate=True)
    yield store
    store.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process (on the captured stderr): put it back afterwards."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
