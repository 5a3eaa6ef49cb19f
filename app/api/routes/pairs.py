"""Steering: trigger a sync or a full resync of a pair; see and approve deletes the guard held back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from app.api.deps import AdminDep, HubDep
from app.api.schemas import ApproveHeldDeletes, HeldDeletesApproved, HeldDeletesPublic, SyncRequested
from app.errors import ConfigError, RecordNotFound
from app.hub import Hub
from app.settings import PairSettings
from app.storage.protocol import CursorKey
from app.sync.census import approve_held_deletes

router = APIRouter(prefix="/api/pairs", tags=["pairs"], dependencies=[AdminDep])

_UNKNOWN_PAIR: dict[int | str, dict[str, Any]] = {404: {"description": "unknown pair"}}


def _pair(hub: Hub, pair_id: str) -> PairSettings:
    for pair in hub.settings.pairs:
        if pair.id == pair_id:
            return pair
    raise HTTPException(404, f"no pair {pair_id!r}")


@router.post(
    "/{pair_id}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_UNKNOWN_PAIR, 409: {"description": "pair disabled"}, 503: {"description": "scheduler not running"}},
)
def trigger_sync(
    hub: HubDep, pair_id: str, full: Annotated[bool, Query(description="full resync")] = False
) -> SyncRequested:
    """Queue a run now; repeated requests before it starts collapse into one run."""
    if not _pair(hub, pair_id).enabled:
        raise HTTPException(409, f"pair {pair_id!r} is disabled in the configuration")
    if hub.scheduler is None or not hub.scheduler.running:
        raise HTTPException(503, "the scheduler is not running")
    hub.scheduler.run_now(pair_id, full=full, trigger="admin")
    return SyncRequested(pair_id=pair_id, full=full, scheduled=True, next_run_at=hub.scheduler.next_run_time(pair_id))


@router.get("/{pair_id}/held-deletes", responses=_UNKNOWN_PAIR)
def list_held_deletes(hub: HubDep, pair_id: str) -> list[HeldDeletesPublic]:
    """The partitions of this pair whose last census held deletes back, and any approval given."""
    streams = _pair(hub, pair_id).pulled_streams()
    return [HeldDeletesPublic.of(h) for h in hub.db.list_held_deletes()
            if (h.key.connector, h.key.stream) in streams]


@router.post(
    "/{pair_id}/held-deletes/approve",
    responses={404: {"description": "unknown pair, or nothing held back in that partition"}},
)
def approve_deletes(hub: HubDep, pair_id: str, body: ApproveHeldDeletes) -> HeldDeletesApproved:
    """Approve the deletes held back in one partition: the next run counts it again and deletes
    what vanished, if that is still at most ``up_to`` records (default: as many as were held)."""
    pair = _pair(hub, pair_id)
    try:
        approved = approve_held_deletes(hub.db, pair, CursorKey(body.connector, body.stream, body.partition),
                                        body.up_to)
    except (ConfigError, RecordNotFound) as exc:
        raise HTTPException(404, str(exc)) from exc
    scheduled = pair.enabled and hub.scheduler is not None and hub.scheduler.running
    if scheduled:
        assert hub.scheduler is not None
        hub.scheduler.run_now(pair_id, trigger="admin")
    return HeldDeletesApproved(held=HeldDeletesPublic.of(approved), scheduled=scheduled)
