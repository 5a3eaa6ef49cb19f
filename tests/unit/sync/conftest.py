"""Fixtures for the sync engine tests: a real SQLite store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import SyncSettings
from app.storage import SqlStore, create_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    hub = create_store(f"sqlite:///{tmp_path / 'hub.db'}", migrate=True)
    yield hub
    hub.close()


@pytest.fixture
def settings() -> SyncSettings:
    return SyncSettings()
