"""Engine set-up and the SQLite write gate."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from app.errors import ConfigError
from app.storage import create_store
from app.storage.engine import WriteGate, make_engine, normalise_url
from app.storage.types import UTCDateTime


def test_a_bare_postgresql_url_means_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite://", "sqlite:///:memory:"])
def test_unsupported_databases_are_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        make_engine(url)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'hub.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() > 0
    finally:
        engine.dispose()


def test_a_nested_write_on_sqlite_fails_fast_instead_of_deadlocking(tmp_path: Path) -> None:
    store = create_store(f"sqlite:///{tmp_path / 'hub.db'}", migrate=True)
    try:
        with pytest.raises(RuntimeError, match="nested write"), store.transaction():
            store.acquire_lease("pair", "me", 10)
        # the gate was released by the failed transaction
        assert store.acquire_lease("pair", "me", 10)
    finally:
        store.close()


def test_the_write_gate_admits_one_thread_at_a_time() -> None:
    gate = WriteGate(exclusive=True)
    inside = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        for _ in range(200):
            with gate.hold():
                with lock:
                    inside += 1
                    peak = max(peak, inside)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1


def test_datetimes_are_stored_as_utc_and_naive_ones_refused() -> None:
    col = UTCDateTime()
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    local = datetime(2026, 3, 2, 10, 15, tzinfo=timezone(timedelta(hours=1)))
    stored = col.process_bind_param(local, dialect)
    assert stored == datetime(2026, 3, 2, 9, 15)
    assert col.process_result_value(stored, dialect) == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        col.process_bind_param(datetime(2026, 3, 2, 9, 15), dialect)
