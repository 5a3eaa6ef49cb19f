"""A real store per test, on SQLite and (when the server is there) PostgreSQL."""

from __future__ import annotations

import pytest

from app.storage import SqlStore


@pytest.fixture
def store(any_store: SqlStore) -> SqlStore:
    return any_store
