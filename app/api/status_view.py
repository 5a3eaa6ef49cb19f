"""Builds the status of every connector and pair from the store and the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

from app import __version__
from app.api.schemas import (
    ConnectorStatusPublic,
    HeldDeletesPublic,
    PairState,
    PairStatusPublic,
    RunPublic,
    StatusPublic,
)
from app.hub import Hub
from app.settings import PairSettings
from app.storage.protocol import RunRecord, RunStatus


def _pair_state(pair: PairSettings, last: RunRecord | None) -> PairState:
    if not pair.enabled:
        return "disabled"
    if last is None:
        return "pending"
    if last.status is RunStatus.RUNNING:
        return "running"
    if last.status is RunStatus.FAILED:
        return "failing"
    if last.status is RunStatus.SUSPICIOUS_MASS_DELETE:
        return "suspicious"
    return "ok"


def build_status(hub: Hub) -> StatusPublic:
    store = hub.db
    now = datetime.now(UTC)
    connectors = []
    for name, conf in hub.settings.connectors.items():
        connectors.append(
            ConnectorStatusPublic(
                name=name, type=conf.type, enabled=conf.enabled,
                records=store.count_records(connector=name),
                partitions=len(store.list_cursors(name)),
            )
        )
    pairs = []
    held = store.list_held_deletes()
    for pair in hub.settings.pairs:
        runs = store.list_runs(pair_id=pair.id, limit=1)
        last = runs[0] if runs else None
        cursors = [c for c in store.list_cursors(pair.source.connector) if c.key.stream == pair.source.stream]
        cursor_age = max(((now - c.updated_at).total_seconds() for c in cursors), default=None)
        next_run = hub.scheduler.next_run_time(pair.id) if hub.scheduler is not None else None
        pairs.append(
            PairStatusPublic(
                id=pair.id,
                mode=pair.mode,
                source=f"{pair.source.connector}/{pair.source.stream}",
                target=f"{pair.target.connector}/{pair.target.stream}" if pair.target else None,
                enabled=pair.enabled,
                state=_pair_state(pair, last),
                last_run=RunPublic.of(last) if last else None,
                next_run_at=next_run,
                cursor_age_s=cursor_age,
                records=store.count_records(connector=pair.source.connector, stream=pair.source.stream),
                held_deletes=[HeldDeletesPublic.of(h) for h in held
                              if (h.key.connector, h.key.stream) in pair.pulled_streams()],
            )
        )
    return StatusPublic(
        version=__version__,
        started_at=hub.started_at,
        scheduler_running=hub.scheduler is not None and hub.scheduler.running,
        connectors=connectors,
        pairs=pairs,
    )
