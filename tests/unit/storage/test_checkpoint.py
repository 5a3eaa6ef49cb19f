"""WAL checkpoints run on the store's checkpointer thread, not inside the writers' commits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage import SqlStore, create_store
from app.storage.checkpoint import BACKSTOP_PAGES, WalCheckpointer
from app.storage.protocol import CursorKey


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = create_store(f"sqlite:///{tmp_path / 'hub.db'}", migrate=True)
    yield s
    s.close()


def _write(store: SqlStore, rounds: int) -> None:
    for n in range(rounds):
        with store.transaction() as tx:
            tx.set_cursor(CursorKey("jira", "issues", f"P{n}"), "x" * 3000)


def _db_bytes(path: Path) -> int:
    """The database file's size: it grows only when a checkpoint copies the log's new pages in."""
    return path.stat().st_size


def test_connections_checkpoint_only_as_a_backstop(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == BACKSTOP_PAGES


def test_commits_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    store = create_store(f"sqlite:///{path}", migrate=True)
    assert store._checkpointer is not None
    store._checkpointer.interval_s = 3600  # never wakes up during the test
    try:
        before = _db_bytes(path)
        _write(store, 1500)  # ~1,500 pages: more than SQLite's default autocheckpoint of 1,000
        assert _db_bytes(path) == before
    finally:
        store.close()


def test_the_checkpointer_copies_the_log_back(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    store = create_store(f"sqlite:///{path}", migrate=True)
    assert store._checkpointer is not None
    store._checkpointer.interval_s = 0.01
    try:
        before = _db_bytes(path)
        _write(store, 200)
        deadline = time.monotonic() + 10
        while _db_bytes(path) < before + 200 * 3000:
            assert time.monotonic() < deadline, f"database still {_db_bytes(path)} bytes (was {before})"
            time.sleep(0.01)
    finally:
        store.close()


def test_close_stops_the_thread(store: SqlStore) -> None:
    _write(store, 1)
    checkpointer = store._checkpointer
    assert checkpointer is not None and checkpointer.running
    store.close()
    assert not checkpointer.running


def test_a_closed_checkpointer_does_not_start(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(str(tmp_path / "x.db"))
    checkpointer.close()
    checkpointer.ensure_started()
    assert not checkpointer.running


def test_a_vanished_database_is_not_created_again(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    checkpointer = WalCheckpointer(str(path), interval_s=0.01)
    checkpointer.ensure_started()
    try:
        time.sleep(0.1)
        assert not path.exists()
    finally:
        checkpointer.close()
