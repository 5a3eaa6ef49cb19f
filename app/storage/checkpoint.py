"""SQLite WAL checkpoints on a thread of their own, not inside a writer's commit.

In WAL mode SQLite copies the log back into the database file (a checkpoint) from inside the
commit that grows the log past ``wal_autocheckpoint`` pages (1,000 by default): whichever write
crosses the mark pays for copying and syncing everyone's pages before its commit returns. A full
sync writes ~50 MB per 10,000 Jira issues, and those checkpoints were ~13 % of the committing
thread's time (docs/benchmarks.md). Here the store's connections checkpoint on their own only as
a backstop (:data:`BACKSTOP_PAGES`), and a :class:`WalCheckpointer` runs a PASSIVE checkpoint
(which never waits for, nor blocks, readers or writers) every ``interval_s`` while the store is
open. SQLite's own checkpoint when the last connection closes is unchanged.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import structlog

__all__ = ["BACKSTOP_PAGES", "WalCheckpointer"]

log = structlog.get_logger(__name__)

BACKSTOP_PAGES = 10_000
"""``wal_autocheckpoint`` of the store's connections: ~40 MB of log, reached only if the
checkpointer falls behind or is not running (another process writing the same file)."""


class WalCheckpointer:
    """Checkpoints the database at ``path`` every ``interval_s``; started on first use, stopped by close."""

    def __init__(self, path: str, interval_s: float = 0.25) -> None:
        self.path = path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        failing = False
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    if conn is None:
                        # mode=rw: a database file that is gone is an error, never a new empty file.
                        conn = sqlite3.connect(f"{Path(self.path).as_uri()}?mode=rw", uri=True,
                                               isolation_level=None, check_same_thread=False)
                    # (busy, log frames, checkpointed frames); a busy or partial pass is retried next time.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    failing = False
                except sqlite3.Error as exc:
                    if not failing:  # once per streak of failures, not four times a second
                        log.warning("storage.checkpoint.failed", path=self.path, error=str(exc))
                    failing = True
                    if conn is not None:
                        conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()
