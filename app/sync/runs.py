"""The run record: started when a run begins, counted as it goes, closed with one status."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from app.errors import ErrorClass
from app.storage.protocol import CursorKey, RunRecord, RunStatus, Store

__all__ = [
    "CENSUS_FLAG",
    "Clock",
    "close_interrupted_runs",
    "cursor_label",
    "fail_run",
    "start_run",
    "utc_now",
]

Clock = Callable[[], datetime]
"""Where the engine reads the time (UTC, timezone-aware)."""

CENSUS_FLAG = "census"
"""Flag of a run that listed a partition to infer deletes (drives ``census_every_runs``)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def start_run(pair_id: str, trigger: str, full: bool, clock: Clock) -> RunRecord:
    return RunRecord(run_id=uuid.uuid4().hex, pair_id=pair_id, trigger=trigger, started_at=clock(), full=full)


def cursor_label(key: CursorKey) -> str:
    """How a partition is named in a run's cursor maps and flags: ``connector/stream/partition``."""
    return f"{key.connector}/{key.stream}/{key.partition}"


def fail_run(run: RunRecord, error_class: ErrorClass, error: str) -> None:
    """Mark ``run`` failed, keeping the first error when several happen."""
    run.status = RunStatus.FAILED
    if run.error_class is None:
        run.error_class = error_class.value
        run.error = error


def close_interrupted_runs(store: Store, *, started_before: datetime, clock: Clock = utc_now) -> int:
    """Close runs still ``running`` that began before ``started_before`` (their process died).

    Call it at start-up with a margin larger than any run lasts: on PostgreSQL other
    instances may be running runs right now. Returns how many runs were closed.
    """
    closed = 0
    for run in store.list_runs(status=RunStatus.RUNNING, limit=1000):
        if run.started_at < started_before:
            fail_run(run, ErrorClass.TRANSIENT, "interrupted: the process stopped during the run")
            run.finished_at = clock()
            store.save_run(run)
            closed += 1
    return closed
