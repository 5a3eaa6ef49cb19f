"""Run history: one row per sync run of a pair."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, Row, select

from app.storage.protocol import RunRecord, RunStatus
from app.storage.sql import upsert
from app.storage.tables import runs

__all__ = ["get_run", "list_runs", "save_run"]

_FIELDS = [f.name for f in fields(RunRecord)]


def save_run(conn: Connection, run: RunRecord) -> None:
    values: dict[str, Any] = {name: getattr(run, name) for name in _FIELDS}
    values["status"] = RunStatus(run.status).value
    values["cursor_before"] = dict(run.cursor_before)
    values["cursor_after"] = dict(run.cursor_after)
    values["flags"] = list(run.flags)
    upsert(conn, runs, values, ["run_id"])


def _to_run(row: Row[Any]) -> RunRecord:
    m = row._mapping
    values = {name: m[name] for name in _FIELDS}
    values["status"] = RunStatus(m["status"])
    values["full"] = bool(m["full"])
    return RunRecord(**values)


def get_run(conn: Connection, run_id: str) -> RunRecord | None:
    row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    return None if row is None else _to_run(row)


def list_runs(conn: Connection, pair_id: str | None, status: RunStatus | None, limit: int) -> list[RunRecord]:
    stmt = select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(max(0, limit))
    if pair_id is not None:
        stmt = stmt.where(runs.c.pair_id == pair_id)
    if status is not None:
        stmt = stmt.where(runs.c.status == RunStatus(status).value)
    return [_to_run(row) for row in conn.execute(stmt)]
