"""Steering: trigger a sync or a full resync of a pair."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.api.deps import AdminDep, HubDep
from app.api.schemas import SyncRequested

router = APIRouter(prefix="/api/pairs", tags=["pairs"], dependencies=[AdminDep])


@router.post(
    "/{pair_id}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "unknown pair"}, 503: {"description": "scheduler not running"}},
)
def trigger_sync(
    hub: HubDep, pair_id: str, full: Annotated[bool, Query(description="full resync")] = False
) -> SyncRequested:
    """Queue a run now; repeated requests before it starts collapse into one run."""
    if pair_id not in {p.id for p in hub.settings.pairs}:
        raise HTTPException(404, f"no pair {pair_id!r}")
    if hub.scheduler is None or not hub.scheduler.running:
        raise HTTPException(503, "the scheduler is not running")
    hub.scheduler.run_now(pair_id, full=full, trigger="admin")
    return SyncRequested(pair_id=pair_id, full=full, scheduled=True, next_run_at=hub.scheduler.next_run_time(pair_id))
